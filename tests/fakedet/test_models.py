import pytest
import torch

from fakedet.errors import UserError
from fakedet.layers import SameConv2d, SameConvTranspose2d, keras_param_count
from fakedet.models import ARCHS, build, get_arch

KERAS_COUNTS = {  # (generator, discriminator) as Keras' model.summary() counts them
    "hands_on": (840_705, 212_865),
    "brownlee": (1_164_289, 155_137),
    "tf_dcgan": (2_330_944, 212_865),
}


@pytest.mark.parametrize("name", list(ARCHS))
def test_parameter_counts_and_shapes(name):
    arch = ARCHS[name]
    G, D = build(arch, arch.recipe, torch.Generator().manual_seed(0))
    assert (keras_param_count(G), keras_param_count(D)) == KERAS_COUNTS[name]
    z = torch.randn(5, arch.recipe.latent_dim)
    x = G.eval()(z)
    assert x.shape == (5, 1, 28, 28)
    torch.testing.assert_close(x, torch.tanh(G[:-1](z)), rtol=0, atol=0)  # ends in tanh
    assert D.eval()(x).shape == (5, 1)


@pytest.mark.parametrize("kernel,stride,size", [(5, 2, 14), (4, 2, 7), (5, 1, 7), (3, 2, 14)])
def test_same_transposed_conv_is_the_adjoint_of_same_conv(kernel, stride, size):
    """TensorFlow defines 'same' conv2d_transpose as the adjoint of the 'same' conv2d."""
    conv = SameConv2d(3, 4, kernel, stride, bias=False)
    convt = SameConvTranspose2d(4, 3, kernel, stride, bias=False)
    convt.weight.data.copy_(conv.weight.data)  # both (4, 3, k, k)
    x = torch.randn(2, 3, size * stride, size * stride, dtype=torch.float64)
    y = torch.randn(2, 4, size, size, dtype=torch.float64)
    conv, convt = conv.double(), convt.double()
    assert conv(x).shape == y.shape and convt(y).shape == x.shape
    torch.testing.assert_close((conv(x) * y).sum(), (x * convt(y)).sum())


def test_same_conv_pads_bottom_right_like_tensorflow():
    conv = SameConv2d(1, 1, 2, stride=2, bias=False)  # total pad 0 for even input
    conv.weight.data.fill_(1.0)
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 4, 4] = 1.0  # TF pads the extra row/column after: the corner pixel is kept
    assert conv(x)[0, 0, 2, 2] == 1.0


def test_keras_initialisation():
    G, D = build(ARCHS["brownlee"], ARCHS["brownlee"].recipe, torch.Generator().manual_seed(0))
    dense = D[-1]
    limit = (6 / (dense.in_features + dense.out_features)) ** 0.5
    assert dense.weight.abs().max() <= limit and dense.bias.abs().sum() == 0


def test_registry_errors_list_valid_names():
    with pytest.raises(UserError, match="valid: hands_on, brownlee, tf_dcgan"):
        get_arch("resnet")


def test_recipe_overrides_are_typed_and_checked():
    r = ARCHS["hands_on"].recipe.override(lr_d="1e-4", batch_size="16", drop_last="false")
    assert (r.lr_d, r.batch_size, r.drop_last) == (1e-4, 16, False)
    with pytest.raises(UserError, match="unknown recipe field"):
        r.override(learning_rate=1)
    with pytest.raises(UserError, match="not a valid int"):
        r.override(batch_size="many")
    with pytest.raises(UserError, match="optimizer"):
        r.override(optimizer="sgd")
