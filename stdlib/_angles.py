"""Angle stages: trigonometric functions whose ports say they take or give an angle.

Their angle ports are in ``rad``, so an angle in degrees (or revolutions) is converted on the
way in. With pint's default registry a plain number also passes as radians (pint's radian is
dimensionless); with ``tm.set_registry(tm.angle_registry())`` an angle is a dimension, and a
plain number or a frequency in Hz fed to these stages is a unit error. The angle of a
direction is periodic: ``circular_mean`` averages directions (359° and 1° average to 0°, not
180°) and ``wrap_angle`` brings angles into [-π, π).
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@tm.stage
def sin(x: Q[Float[Array, "*s"], "rad"]) -> Float[Array, "*s"]:
    """The sine of an angle."""
    return jnp.sin(x)


@tm.stage
def cos(x: Q[Float[Array, "*s"], "rad"]) -> Float[Array, "*s"]:
    """The cosine of an angle."""
    return jnp.cos(x)


@tm.stage
def tan(x: Q[Float[Array, "*s"], "rad"]) -> Float[Array, "*s"]:
    """The tangent of an angle."""
    return jnp.tan(x)


@tm.stage
def arcsin(x: Q[Float[Array, "*s"], "", tm.Bounded(-1, 1)]) -> Q[Float[Array, "*s"], "rad"]:
    """The angle whose sine is ``x`` (in [-π/2, π/2])."""
    return jnp.arcsin(x)


@tm.stage
def arccos(x: Q[Float[Array, "*s"], "", tm.Bounded(-1, 1)]) -> Q[Float[Array, "*s"], "rad"]:
    """The angle whose cosine is ``x`` (in [0, π])."""
    return jnp.arccos(x)


@tm.stage
def arctan2(y: Q[Float[Array, "*s"], "'u"], x: Q[Float[Array, "*s"], "'u"]) -> Q[Float[Array, "*s"], "rad"]:
    """The direction of the vector ``(x, y)`` (in [-π, π]); ``y`` first, as in numpy."""
    return jnp.arctan2(y, x)


@tm.stage
def circular_mean(theta: Q[Float[Array, "n *rest"], "rad"]) -> Q[Float[Array, "*rest"], "rad"]:
    """The mean direction of angles over the leading axis (the direction of the mean unit vector)."""
    return jnp.arctan2(jnp.sin(theta).mean(axis=0), jnp.cos(theta).mean(axis=0))


@tm.stage
def wrap_angle(theta: Q[Float[Array, "*s"], "rad"]) -> Q[Float[Array, "*s"], "rad"]:
    """Angles brought into [-π, π)."""
    return (theta + jnp.pi) % (2 * jnp.pi) - jnp.pi
