"""The rank tests in ``ranks/`` run only under an MPI launcher with at least 2 ranks
(``test_launch.py`` starts them); a plain ``pytest`` run does not collect them itself."""
import os


def _under_mpi_launcher():
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        if int(os.environ.get(name, "1")) >= 2:
            return True
    return False


collect_ignore = [] if _under_mpi_launcher() else ["ranks"]
