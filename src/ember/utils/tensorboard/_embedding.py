"""The files of TensorBoard's embedding projector: the vectors (``tensors.tsv``), their
labels (``metadata.tsv``), a sprite of their images (``sprite.png``) and the
``projector_config.pbtxt`` that lists every embedding of a run."""
import math
import os

import numpy as np
from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo

from ember.utils.tensorboard._convert import make_grid


def write_tsv(metadata, save_path, metadata_header=None):
    """One label per line, or (with a header) tab-separated columns."""
    if metadata_header:
        if len(metadata_header) != len(metadata[0]):
            raise AssertionError("len of header must be equal to the number of columns "
                                 "in metadata")
        lines = ["\t".join(str(e) for e in row) for row in [metadata_header] + list(metadata)]
    else:
        lines = [str(x) for x in metadata]
    with open(os.path.join(save_path, "metadata.tsv"), "wb") as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))


def write_sprite(label_img, save_path):
    """The ``(N, C, H, W)`` images tiled into one square PNG, ``ceil(sqrt(N))`` a row."""
    from PIL import Image

    ncols = math.ceil(label_img.shape[0] ** 0.5)
    grid = make_grid(label_img, ncols=ncols).transpose(1, 2, 0)
    square = np.zeros((grid.shape[1], grid.shape[1], 3), dtype=np.float32)
    square[:grid.shape[0]] = grid
    if label_img.dtype != np.uint8:
        square = square * 255
    Image.fromarray(square.clip(0, 255).astype(np.uint8)).save(
        os.path.join(save_path, "sprite.png"), format="PNG")


def write_vectors(mat, save_path):
    """One tab-separated row per vector."""
    with open(os.path.join(save_path, "tensors.tsv"), "wb") as f:
        for row in mat:
            f.write(("\t".join(str(x.item()) for x in row) + "\n").encode("utf-8"))


def embedding_info(metadata, label_img, subdir, global_step, tag):
    """The projector's entry for one embedding; paths relative to the run directory."""
    info = EmbeddingInfo()
    info.tensor_name = f"{tag}:{str(global_step).zfill(5)}"
    info.tensor_path = f"{subdir}/tensors.tsv"
    if metadata is not None:
        info.metadata_path = f"{subdir}/metadata.tsv"
    if label_img is not None:
        info.sprite.image_path = f"{subdir}/sprite.png"
        info.sprite.single_image_dim.extend([label_img.shape[3], label_img.shape[2]])
    return info
