"""Views: the cost of making a new tensor header over the same storage."""
import ember


class Views:
    def setup(self):
        self.x = ember.ones(64, 64)

    def time_slice(self):
        self.x[1:3]

    def time_transpose_property(self):
        self.x.T

    def time_reshape_flat(self):
        self.x.reshape(-1)

    def time_view(self):
        self.x.view(4096)

    def time_permute(self):
        self.x.permute(1, 0)

    def time_expand(self):
        self.x[0].expand(8, 64)

    def time_select(self):
        self.x[3]
