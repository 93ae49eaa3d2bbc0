"""Posteriors of each arm's mean reward and P(arm is best), by deterministic quadrature; pure Python.

Posteriors.

- Conversions (rewards from 0 to 1): Beta(1 + S, 1 + n - S), S the reward sum and n the count, from the uniform
  prior Beta(1, 1). Exact for 0/1 rewards; for fractional rewards it is the usual pseudo-count extension (Agrawal and
  Goyal 2012 draw a Bernoulli per reward instead; the mean is the same, the variance slightly smaller).
- Real rewards: the mean is N(xbar, s² / n) with xbar = sum / n and s² = (sum of squares - n xbar²) / (n - 1): a flat
  prior on the mean with the variance plugged in. With fewer than `MINIMUM_REAL_COUNT` requests on an arm there is no
  variance; `probability_best` then gives every arm the same probability (warm-up). Known weakness: with few
  requests the plug-in variance is too small (a Student t would be wider), so early P(best) is overconfident; and
  the sum of squares loses digits when the mean is large against the spread (centre rewards before summing them).

P(arm i is best) = integral of f_i(x) prod_{j != i} F_j(x) dx, f the posterior densities and F their distribution
functions. It is computed on one grid of nodes, the union of a window per arm, so that every density is resolved
wherever it matters however different the arms' widths (10 requests on one arm, 10^6 on another):

- the window of an arm is where its log-density is within `WINDOW_LOG_DENSITY` (20) of its peak; the densities
  are log-concave, so the mass outside is at most about e^-20 (2e-9) of the whole: for a normal that is the mean
  +- 6.3 sd; for a Beta it is found by bisection on the log-density, which needs neither lgamma nor a normal
  approximation, so the cost and the accuracy do not depend on the counts (10^2 or 10^8 requests alike). Outside
  its window an arm's density is taken as 0, so that a long interval between other arms' nodes never carries its
  steep tail into the rule below (the derivatives at a window's ends are one-sided);
- `NODES_PER_ARM` (33) nodes per window, equally spaced; for a Beta with a (or b) strictly between 1 and 2 (less
  than one success, or failure, after discounting or with fractional rewards) the density behaves like x^(a - 1) at
  0 with an infinite derivative, and the nodes are graded towards that end (u^5), which restores the rule's order;
- the grid's intervals are halved (the fine grid); on each interval the integral is the corrected trapezoid rule
  h/2 (g0 + g1) + h²/12 (g0' - g1'), exact for cubics (error O(h^4)), with the derivatives g' in closed form;
- a Beta's F is the running integral of its density by the same rule, divided by the total (which also removes the
  window's truncation); a normal's F is Phi through math.erfc;
- the result is extrapolated from the coarse and the fine grid (Richardson: p_fine + (p_fine - p_coarse) / 15),
  each with its densities normalised on its own nodes, and divided by the sum, which is 1 up to the rule's error.

Accuracy, against closed forms (two Betas: the sum of Evan Miller's formula; two normals: Phi of the standardised
difference) and against mpmath for fractional Beta parameters: better than 1e-6 absolute on every case of
tests/unit/test_bandit_posterior.py, from Beta(1, 1) to 10^5 requests per arm. Cost: a few thousand float
operations and about 200 logarithms per arm, 1.5 to 2.5 ms of CPU for 3 arms on a development machine, whatever the
counts (`bench/bandit.py` times it; docs/benchmarks.md).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import NormalDist

from rollouts.bandit.models import ArmStatistics, RewardKind

WINDOW_LOG_DENSITY = 20.0
NODES_PER_ARM = 33  # on the coarse grid; the fine grid halves every interval
MINIMUM_REAL_COUNT = 2.0
_BISECTIONS = 34  # 2^-34 of the bracket: for a = 2 the window starts near 2e-9 x the mode, which must stay > 0
_BRACKET_SDS = 30.0
_GRADING = 5.0  # nodes at u^5 near an end where the density is x^(a - 1), 1 < a < 2
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class BetaPosterior:
    """Beta(a, b) with a, b >= 1, the posterior of a conversion rate."""

    a: float
    b: float

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    @property
    def sd(self) -> float:
        total = self.a + self.b
        return math.sqrt(self.a * self.b / (total * total * (total + 1)))

    @property
    def mode(self) -> float:
        total = self.a + self.b
        return (self.a - 1) / (total - 2) if total > 2 else 0.5

    def log_density(self, x: float) -> float:
        """log f(x) - log f(mode), -inf at a boundary where the density is 0."""
        mode, value = self.mode, 0.0
        if self.a > 1:
            if x <= 0:
                return -math.inf
            value += (self.a - 1) * math.log(x / mode)
        if self.b > 1:
            if x >= 1:
                return -math.inf
            value += (self.b - 1) * math.log((1 - x) / (1 - mode))
        return value

    def slope(self, x: float) -> float:
        """d log f / dx; 0 where it is infinite (at 0 or 1), which the quadrature takes as a plain trapezoid."""
        value = 0.0
        if self.a > 1:
            if x <= 0:
                return 0.0
            value += (self.a - 1) / x
        if self.b > 1:
            if x >= 1:
                return 0.0
            value -= (self.b - 1) / (1 - x)
        return value

    def window(self) -> tuple[float, float]:
        mode, sd = self.mode, self.sd
        lower = 0.0 if self.a < 2 else self._solve(max(0.0, mode - _BRACKET_SDS * sd), mode, 0.0)
        upper = 1.0 if self.b < 2 else self._solve(min(1.0, mode + _BRACKET_SDS * sd), mode, 1.0)
        return lower, upper

    def graded(self) -> tuple[bool, bool]:
        """Whether the density has an infinite derivative at 0, at 1 (a or b strictly between 1 and 2)."""
        return 1 < self.a < 2, 1 < self.b < 2

    def _solve(self, outside: float, inside: float, boundary: float) -> float:
        # The log-density is concave: bisect for the point where it is WINDOW_LOG_DENSITY below the peak.
        if self.log_density(outside) >= -WINDOW_LOG_DENSITY:
            outside = boundary
        for _ in range(_BISECTIONS):
            middle = 0.5 * (outside + inside)
            if self.log_density(middle) < -WINDOW_LOG_DENSITY:
                outside = middle
            else:
                inside = middle
        return outside

    def evaluate(
        self, nodes: Sequence[float], logs: tuple[Sequence[float], Sequence[float]] | None = None
    ) -> tuple[list[float], list[float]]:
        """f(x) / f(mode) and its derivative at the nodes; `logs`: log x and log(1 - x) there, if already known."""
        a1, b1, mode = self.a - 1, self.b - 1, self.mode
        log_x, log_rest_x = logs if logs is not None else _logs(nodes)
        shift = (a1 * math.log(mode) if a1 > 0 else 0.0) + (b1 * math.log(1 - mode) if b1 > 0 else 0.0)
        exp = math.exp
        density: list[float] = []
        derivative: list[float] = []
        for x, lx, lr in zip(nodes, log_x, log_rest_x, strict=True):
            if (x <= 0 and a1 > 0) or (x >= 1 and b1 > 0):
                density.append(0.0)
                derivative.append(0.0)
                continue
            f = exp((a1 * lx if a1 > 0 else 0.0) + (b1 * lr if b1 > 0 else 0.0) - shift)
            density.append(f)
            derivative.append(f * ((a1 / x if a1 > 0 else 0.0) - (b1 / (1 - x) if b1 > 0 else 0.0)))
        return density, derivative


def _logs(nodes: Sequence[float]) -> tuple[list[float], list[float]]:
    """log x and log(1 - x) at the nodes (0 where undefined: the density is 0 there or the term is absent)."""
    return (
        [math.log(x) if x > 0 else 0.0 for x in nodes],
        [math.log1p(-x) if x < 1 else 0.0 for x in nodes],
    )


@dataclass(frozen=True, slots=True)
class NormalPosterior:
    """N(mean, sd²), the posterior of a real reward's mean."""

    mean: float
    sd: float

    def window(self) -> tuple[float, float]:
        half = math.sqrt(2 * WINDOW_LOG_DENSITY) * self.sd
        return self.mean - half, self.mean + half

    def graded(self) -> tuple[bool, bool]:
        return False, False

    def evaluate(
        self, nodes: Sequence[float], logs: tuple[Sequence[float], Sequence[float]] | None = None
    ) -> tuple[list[float], list[float]]:
        """The density and its derivative at the nodes (`logs` is for the Beta's signature)."""
        mean, sd = self.mean, self.sd
        scale = _INV_SQRT_2PI / sd
        exp = math.exp
        density: list[float] = []
        derivative: list[float] = []
        for x in nodes:
            z = (x - mean) / sd
            f = scale * exp(-0.5 * z * z)
            density.append(f)
            derivative.append(-z / sd * f)
        return density, derivative

    def cdf(self, nodes: Sequence[float]) -> list[float]:
        scale = 1.0 / (self.sd * _SQRT2)
        return [0.5 * math.erfc((self.mean - x) * scale) for x in nodes]


Posterior = BetaPosterior | NormalPosterior


def posterior(arm: ArmStatistics, kind: RewardKind = RewardKind.CONVERSION) -> Posterior:
    """The posterior of the arm's mean reward (see the module's docstring); real rewards need 2 requests."""
    if kind is RewardKind.CONVERSION:
        successes = min(max(arm.reward_sum, 0.0), arm.count)
        if arm.reward_sum < -1e-9 or arm.reward_sum > arm.count * (1 + 1e-9) + 1e-9:
            raise ValueError(
                f"variant {arm.variant!r}: conversions sum to {arm.reward_sum:g} over {arm.count:g} requests; "
                "a conversion is from 0 to 1"
            )
        return BetaPosterior(1.0 + successes, 1.0 + arm.count - successes)
    if arm.count < MINIMUM_REAL_COUNT:
        raise ValueError(f"variant {arm.variant!r}: {arm.count:g} requests, a real reward needs {MINIMUM_REAL_COUNT:g}")
    mean = arm.reward_sum / arm.count
    variance = max(0.0, (arm.reward_sum_of_squares - arm.count * mean * mean) / (arm.count - 1))
    # A point mass (every reward equal) has no width to integrate over: keep a sliver that cannot change the ranking.
    sd = max(math.sqrt(variance / arm.count), 1e-12 * max(1.0, abs(mean)))
    return NormalPosterior(mean, sd)


def credible_interval(
    arm: ArmStatistics, kind: RewardKind = RewardKind.CONVERSION, level: float = 0.95
) -> tuple[float, float]:
    """The equal-tailed credible interval of the arm's mean reward."""
    if not 0 < level < 1:
        raise ValueError(f"a credible level is between 0 and 1, got {level:g}")
    tail = (1 - level) / 2
    dist = posterior(arm, kind)
    if isinstance(dist, NormalPosterior):
        z = _STANDARD_NORMAL.inv_cdf(1 - tail)
        return dist.mean - z * dist.sd, dist.mean + z * dist.sd
    window = dist.window()
    table = _Table(dist, window, _fine(_nodes([dist], [window])))
    return table.quantile(tail), table.quantile(1 - tail)


def probability_best(arms: Sequence[ArmStatistics], kind: RewardKind = RewardKind.CONVERSION) -> list[float]:
    """P(arm has the highest mean | data) for each arm, in order; they sum to 1 (see the module's docstring)."""
    if not arms:
        raise ValueError("a bandit needs at least one arm")
    if len(arms) == 1:
        return [1.0]
    if kind is RewardKind.REAL and any(arm.count < MINIMUM_REAL_COUNT for arm in arms):
        return [1.0 / len(arms)] * len(arms)
    return probability_best_of([posterior(arm, kind) for arm in arms])


def probability_best_of(posteriors: Sequence[Posterior]) -> list[float]:
    """P(each posterior's draw is the largest), by the quadrature of the module's docstring."""
    grid, tables = _tables(posteriors)
    return _probabilities(tables, grid)


def _tables(posteriors: Sequence[Posterior]) -> tuple[list[float], list[_Table]]:
    """The fine grid of the posteriors' windows, and each posterior's table on it."""
    windows = [dist.window() for dist in posteriors]
    grid = _fine(_nodes(posteriors, windows))
    # log x and log(1 - x) once for every Beta arm on the shared grid: the bulk of the cost otherwise.
    logs = _logs(grid) if any(isinstance(dist, BetaPosterior) for dist in posteriors) else None
    return grid, [_Table(dist, window, grid, logs) for dist, window in zip(posteriors, windows, strict=True)]


def _probabilities(tables: Sequence[_Table], grid: list[float]) -> list[float]:
    """Integral of f_i prod_{j != i} F_j for each arm i, normalised to sum to 1."""
    values = [max(0.0, _extrapolated(table, _other_cdfs(tables, table), grid)) for table in tables]
    whole = sum(values)
    return [value / whole for value in values]


def _other_cdfs(tables: Sequence[_Table], table: _Table, also: _Table | None = None) -> list[_Factor]:
    """The distribution functions of every arm but `table` (and `also`), as factors of an integrand."""
    return [other.cdf_factor for other in tables if other is not table and other is not also]


def _fine(coarse: list[float]) -> list[float]:
    """The coarse nodes with the middle of every interval added: the coarse nodes are the even ones."""
    grid = [coarse[0]]
    for left, right in pairwise(coarse):
        grid += [0.5 * (left + right), right]
    return grid


def _nodes(posteriors: Sequence[Posterior], windows: Sequence[tuple[float, float]]) -> list[float]:
    """The coarse grid: `NODES_PER_ARM` nodes per window, equally spaced or graded towards a singular end."""
    points: set[float] = set()
    steps = NODES_PER_ARM - 1
    for dist, (lower, upper) in zip(posteriors, windows, strict=True):
        at_lower, at_upper = dist.graded()
        for i in range(steps):
            u = i / steps
            if at_lower and at_upper:
                u = u**_GRADING / (u**_GRADING + (1 - u) ** _GRADING)
            elif at_lower:
                u = u**_GRADING
            elif at_upper:
                u = 1 - (1 - u) ** _GRADING
            points.add(lower + (upper - lower) * u)
        points.add(upper)
    return sorted(points)


class _Table:
    """A posterior's density, its one-sided derivatives and its distribution function at the nodes of a grid.

    The density is taken as 0 outside the arm's window (it is below e^-20 of the peak there): so an interval between
    other arms' nodes that lies outside the window carries neither this arm's mass nor its steep tail's derivative
    into the correction term. At the window's ends the derivative is one-sided: `left` is d/dx on the interval that
    ends at the node, `right` on the interval that starts there. `cdf` is on every node, `coarse_cdf` on every other
    node (the coarse grid), each integrated on its own nodes, for the Richardson step.
    """

    def __init__(
        self,
        dist: Posterior,
        window: tuple[float, float],
        grid: list[float],
        logs: tuple[list[float], list[float]] | None = None,
    ) -> None:
        self.dist = dist
        self.grid = grid
        lower, upper = window
        # The window's ends are nodes of the coarse grid, which are the even nodes of the fine one.
        self.first, self.last = bisect_left(grid, lower), bisect_right(grid, upper) - 1
        first, last = self.first, self.last
        span = (logs[0][first : last + 1], logs[1][first : last + 1]) if logs is not None else None
        inside, inside_derivative = dist.evaluate(grid[first : last + 1], span)
        size = len(grid)
        density = [0.0] * first + inside + [0.0] * (size - last - 1)
        self.left = [0.0] * first + [0.0, *inside_derivative[1:]] + [0.0] * (size - last - 1)
        self.right = [0.0] * first + [*inside_derivative[:-1], 0.0] + [0.0] * (size - last - 1)
        if isinstance(dist, NormalPosterior):
            self.density = density
            self.cdf = self.coarse_cdf = dist.cdf(grid)
            self.total = self.coarse_scale = 1.0
            return
        fine, coarse = self._running(density, 1), self._running(density, 2)
        self.total = total = fine[-1]
        scale, coarse_scale = 1.0 / total, 1.0 / coarse[-1]
        self.density = [f * scale for f in density]
        self.left = [d * scale for d in self.left]
        self.right = [d * scale for d in self.right]
        self.cdf = [value * scale for value in fine]
        self.coarse_cdf = [value * coarse_scale for value in coarse]
        self.coarse_scale = total / coarse[-1]

    @property
    def cdf_factor(self) -> _Factor:
        """F as a factor of an integrand: its values on the fine and the coarse grid, and its derivative f."""
        return _Factor(self.cdf, self.coarse_cdf, self.density)

    def _running(self, density: list[float], stride: int) -> list[float]:
        """The running integral of the density on grid[::stride] (other nodes: the value at the node before)."""
        grid, left, right = self.grid, self.left, self.right
        first, last = self.first, self.last
        running = [0.0] * len(grid)
        total = 0.0
        previous_x, previous_f, previous_d = grid[first], density[first], right[first]
        for k in range(first + stride, last + 1, stride):
            x, f = grid[k], density[k]
            h = x - previous_x
            total += h * (0.5 * (previous_f + f) + h * (previous_d - left[k]) / 12)
            running[k] = total
            previous_x, previous_f, previous_d = x, f, right[k]
        if stride == 2:
            for k in range(first + 1, last, 2):
                running[k] = running[k - 1]
        running[last + 1 :] = [total] * (len(grid) - last - 1)
        return running

    def quantile(self, probability: float) -> float:
        """x with F(x) = probability: F at the coarse nodes by Richardson, then Newton on the corrected trapezoid."""
        dist = self.dist
        assert isinstance(dist, BetaPosterior)
        grid = self.grid
        nodes = range(self.first, self.last + 1, 2)
        refined = {k: self.cdf[k] + (self.cdf[k] - self.coarse_cdf[k]) / 15 for k in nodes}
        k = next((index for index in nodes if index > self.first and refined[index] >= probability), self.last)
        start = refined[k - 2]
        left, right = grid[k - 2], grid[k]
        # The density normalised by its integral refined the same way (the fine total is off by O(h^4) too).
        total = self.total + (self.total - self.total / self.coarse_scale) / 15
        f0, d0 = self.density[k - 2] * self.total / total, self.right[k - 2] * self.total / total
        span = refined[k] - start
        x = left + (right - left) * ((probability - start) / span if span > 0 else 0.5)
        for _ in range(8):
            f1 = math.exp(dist.log_density(x)) / total
            if f1 <= 0:
                break
            d1 = f1 * dist.slope(x)
            h = x - left
            value = start + 0.5 * h * (f0 + f1) + h * h / 12 * (d0 - d1)
            x = min(right, max(left, x - (value - probability) / f1))
        return x


@dataclass(frozen=True, slots=True)
class BestArmMoments:
    """What the posteriors say about the best arm A*, for information-directed sampling (`rollouts.bandit.weights`).

    `probabilities[m]` = P(A* = m); `deviations[k][m]` = E[(mu_k - E mu_k) 1{A* = m}], how far learning that m is
    best moves arm k's mean (times P(A* = m)); `means[k]` = E mu_k. Each row of `deviations` sums to 0.
    """

    probabilities: list[float]
    deviations: list[list[float]]
    means: list[float]


def best_arm_moments(posteriors: Sequence[Posterior]) -> BestArmMoments:
    """P(A* = m) and E[(mu_k - E mu_k) 1{A* = m}] by the quadrature of the module's docstring.

    With F the distribution functions and f the densities, P(A* = m) = int f_m prod_{j != m} F_j;
    E[(mu_m - E mu_m) 1{A* = m}] = int (x - E mu_m) f_m prod_{j != m} F_j; and for k != m,
    E[(mu_k - E mu_k) 1{A* = m}] = int f_m T_k prod_{j != k, m} F_j, with T_k(x) = int_{-inf}^x (y - E mu_k) f_k(y) dy,
    which is -x (1 - x) f_k(x) / (a + b) for a Beta(a, b) and -sd² f_k(x) for a normal: closed forms, so that no
    difference of nearly equal integrals loses the digits that a concentrated posterior's deviations need.
    """
    grid, tables = _tables(posteriors)
    means = [dist.mean for dist in posteriors]
    tails = [_tail(table, mean) for table, mean in zip(tables, means, strict=True)]
    count = len(posteriors)
    deviations = [[0.0] * count for _ in range(count)]
    for m, table in enumerate(tables):
        centred = [value - means[m] for value in grid]
        own = _Factor(centred, centred, [1.0] * len(grid))
        deviations[m][m] = _extrapolated(table, [own, *_other_cdfs(tables, table)], grid)
        for k, other in enumerate(tables):
            if other is not table:
                deviations[k][m] = _extrapolated(table, [tails[k], *_other_cdfs(tables, table, other)], grid)
    return BestArmMoments(_probabilities(tables, grid), deviations, means)


@dataclass(frozen=True, slots=True)
class _Factor:
    """A factor of an integrand at the nodes of the fine grid: its values (on the coarse grid too) and derivative."""

    values: list[float]
    coarse_values: list[float]
    slopes: list[float]


def _tail(table: _Table, mean: float) -> _Factor:
    """T(x) = int_{-inf}^x (y - mean) f(y) dy and its derivative (x - mean) f(x), from the density at the nodes."""
    dist, grid, density = table.dist, table.grid, table.density
    if isinstance(dist, BetaPosterior):
        scale = 1.0 / (dist.a + dist.b)
        values = [-x * (1 - x) * f * scale for x, f in zip(grid, density, strict=True)]
    else:
        variance = dist.sd * dist.sd
        values = [-variance * f for f in density]
    return _Factor(values, values, [(x - mean) * f for x, f in zip(grid, density, strict=True)])


def _extrapolated(table: _Table, factors: Sequence[_Factor], grid: list[float]) -> float:
    """The integral on the fine grid, refined by Richardson: halving every interval divides the O(h^4) error by 16."""
    fine, rough = _integral(table, factors, grid, 1), _integral(table, factors, grid, 2)
    return fine + (fine - rough) / 15


def _integral(table: _Table, factors: Sequence[_Factor], grid: list[float], stride: int) -> float:
    """Integral of the density times the factors on grid[::stride], over the table's window (the density is 0 outside).

    The corrected trapezoid rule of the module's docstring, with the product's derivative by the product rule; on the
    coarse grid (stride 2) the density is normalised by its own integral on those nodes, as on the fine grid.
    """
    density, left, right = table.density, table.left, table.right
    total = 0.0
    previous_x = previous_g = previous_slope = 0.0
    for k in range(table.first, table.last + 1, stride):
        product, spread = 1.0, 0.0
        for factor in factors:
            value = factor.values[k] if stride == 1 else factor.coarse_values[k]
            spread = spread * value + product * factor.slopes[k]
            product *= value
        f, x = density[k], grid[k]
        g = f * product
        if k != table.first:
            h = x - previous_x
            total += h * (0.5 * (previous_g + g) + h * (previous_slope - left[k] * product - f * spread) / 12)
        previous_x, previous_g, previous_slope = x, g, right[k] * product + f * spread
    return total if stride == 1 else total * table.coarse_scale
