"""A strided convolution whose input gradient is itself fast to differentiate on XLA:CPU.

The R1 penalty differentiates the discriminator's input gradient with respect to its weights (a
double backward). JAX writes a strided conv's input gradient as a conv with `lhs_dilation` and a
reversed kernel; the weight gradient of *that* becomes convolutions XLA:CPU has no fast kernel for
(`dim_labels=01fb_o01i->f01b` with `rhs_reversal`): 5-20x slower than the plain weight gradient
(`benchmarks/bench_train.py` times the whole step). Here the input gradient is a function whose
derivatives are given by hand: it is J(w)^T g for the conv's linear map J(w), so its derivatives are
the forward conv and the plain weight gradient, which XLA runs fast. The forward pass and both
first-order gradients are JAX's own (bit-identical); only the second-order ones are written here.
"""

from __future__ import annotations

import functools

import jax
from flax import nnx

_DIMS = ("NHWC", "HWIO", "NHWC")


def strided_conv(conv: nnx.Conv, x_BxHxWxC):
    """`conv(x)` for a SAME-padded 2D `nnx.Conv`, with the gradient described in the module docstring."""
    y = same_conv(x_BxHxWxC, conv.kernel[...], _pair(conv.strides))
    return y if conv.bias is None else y + conv.bias[...].reshape(1, 1, 1, -1)


def _pair(strides) -> tuple[int, int]:
    return (strides, strides) if isinstance(strides, int) else tuple(strides)


def _forward(x, w, strides):
    return jax.lax.conv_general_dilated(x, w, strides, "SAME", dimension_numbers=_DIMS)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def same_conv(x_BxHxWxC, w_KxKxCxO, strides: tuple[int, int]):
    """`lax.conv_general_dilated(x, w, strides, "SAME")` in NHWC/HWIO."""
    return _forward(x_BxHxWxC, w_KxKxCxO, strides)


def _same_conv_fwd(x, w, strides):
    return _forward(x, w, strides), (x, w)


def _same_conv_bwd(strides, residuals, g_BxhxwxO):
    x, w = residuals
    _, w_vjp = jax.vjp(lambda w_: _forward(x, w_, strides), w)
    return _input_grad(g_BxhxwxO, w, strides, x.shape), w_vjp(g_BxhxwxO)[0]


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _input_grad(g_BxhxwxO, w, strides, x_shape):
    """The conv's input gradient for cotangent `g`: JAX's own transpose (`lhs_dilation`)."""
    (dx,) = jax.linear_transpose(lambda x: _forward(x, w, strides), jax.ShapeDtypeStruct(x_shape, w.dtype))(g_BxhxwxO)
    return dx


def _input_grad_fwd(g, w, strides, x_shape):
    return _input_grad(g, w, strides, x_shape), (g, w)


def _input_grad_bwd(strides, x_shape, residuals, c_BxHxWxC):
    # dx = J(w)^T g for the conv's linear map J(w), so <c, dx> = <J(w) c, g>: its gradient in g is the
    # forward conv of c, and in w the conv's plain weight gradient at input c, cotangent g
    g, w = residuals
    jc, w_vjp = jax.vjp(lambda w_: _forward(c_BxHxWxC, w_, strides), w)
    return jc, w_vjp(g)[0]


_input_grad.defvjp(_input_grad_fwd, _input_grad_bwd)


same_conv.defvjp(_same_conv_fwd, _same_conv_bwd)
