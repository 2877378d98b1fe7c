"""nn.radius_graph and nn.knn_graph against brute force in numpy: random clouds, batches, ties, chunking."""
import numpy as np
import pytest
import torch

from basisgen.errors import InvalidTypeError, InvalidValueError
from e2layers import nn


def _pairs(edge_index: torch.Tensor) -> list:
    return [tuple(e) for e in edge_index.T.tolist()]


def _brute_radius(x: np.ndarray, r: float, batch, loop: bool, max_nb=None) -> list:
    """(source, target) pairs by target then source, the nearest ``max_nb`` per target (ties: lower index)."""
    n = len(x)
    batch = np.zeros(n, int) if batch is None else np.asarray(batch)
    out = []
    for i in range(n):
        d2 = ((x - x[i]) ** 2).sum(1)
        cand = [j for j in range(n) if batch[j] == batch[i] and (loop or j != i) and d2[j] <= r * r]
        if max_nb is not None:
            cand = sorted(sorted(cand, key=lambda j: (d2[j], j))[:max_nb])
        out += [(j, i) for j in cand]
    return out


def _brute_knn(x: np.ndarray, k: int, batch, loop: bool) -> list:
    n = len(x)
    batch = np.zeros(n, int) if batch is None else np.asarray(batch)
    out = []
    for i in range(n):
        d2 = ((x - x[i]) ** 2).sum(1)
        cand = [j for j in range(n) if batch[j] == batch[i] and (loop or j != i)]
        out += [(j, i) for j in sorted(sorted(cand, key=lambda j: (d2[j], j))[:k])]
    return out


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loop", [False, True])
def test_radius_graph_matches_brute_force(seed, loop):
    rng = np.random.default_rng(seed)
    x = rng.random((70, 2))
    batch = np.sort(rng.integers(0, 3, 70)) if seed else None
    t_batch = None if batch is None else torch.as_tensor(batch)
    got = nn.radius_graph(torch.as_tensor(x), 0.2, batch=t_batch, loop=loop)
    assert got.dtype == torch.long and got.shape[0] == 2
    assert _pairs(got) == _brute_radius(x, 0.2, batch, loop)
    assert got.shape[1] > 70      # a graph with edges: the comparison is not vacuous
    for chunk in (1, 7, 1000):
        assert torch.equal(nn.radius_graph(torch.as_tensor(x), 0.2, batch=t_batch, loop=loop, chunk_size=chunk), got)


@pytest.mark.parametrize("max_nb", [1, 3, 8])
def test_radius_graph_max_num_neighbors_keeps_the_nearest(max_nb):
    rng = np.random.default_rng(4)
    x = rng.random((60, 2))
    got = nn.radius_graph(torch.as_tensor(x), 0.3, max_num_neighbors=max_nb)
    assert _pairs(got) == _brute_radius(x, 0.3, None, False, max_nb)
    assert torch.equal(nn.radius_graph(torch.as_tensor(x), 0.3, max_num_neighbors=max_nb, chunk_size=9), got)
    assert torch.bincount(got[1], minlength=60).max().item() == max_nb


def test_ties_on_a_grid_are_exact_and_broken_by_index():
    # a 6 x 6 integer grid: four neighbours at distance exactly 1, four at sqrt(2)
    g = torch.stack(torch.meshgrid(torch.arange(6.0), torch.arange(6.0), indexing="ij"), -1).reshape(-1, 2)
    x = g.numpy()
    assert _pairs(nn.radius_graph(g, 1.0)) == _brute_radius(x, 1.0, None, False)
    assert torch.bincount(nn.radius_graph(g, 1.0)[1]).tolist()[14] == 4        # an inner point
    for k in (1, 2, 5, 9):
        assert _pairs(nn.knn_graph(g, k)) == _brute_knn(x, k, None, False)
        assert _pairs(nn.knn_graph(g.double(), k, chunk_size=5)) == _brute_knn(x, k, None, False)
    assert _pairs(nn.radius_graph(g, 1.0, max_num_neighbors=2)) == _brute_radius(x, 1.0, None, False, 2)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loop", [False, True])
def test_knn_graph_matches_brute_force(seed, loop):
    rng = np.random.default_rng(10 + seed)
    x = rng.random((50, 3))        # any dimension
    batch = rng.integers(0, 4, 50) if seed else None           # unsorted batches are fine
    t_batch = None if batch is None else torch.as_tensor(batch)
    got = nn.knn_graph(torch.as_tensor(x), 6, batch=t_batch, loop=loop)
    assert _pairs(got) == _brute_knn(x, 6, batch, loop)
    assert torch.equal(nn.knn_graph(torch.as_tensor(x), 6, batch=t_batch, loop=loop, chunk_size=4), got)


def test_small_examples_get_all_their_points():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    edges = nn.knn_graph(x, 5, batch=torch.tensor([0, 0, 1]))
    assert _pairs(edges) == [(1, 0), (0, 1)]
    assert nn.radius_graph(torch.zeros(0, 2), 1.0).shape == (2, 0)


def test_flow_is_source_to_target():
    # point 2 is the only one near point 0 in the knn sense with k=1; the edge is 2 -> 0: [source, target]
    x = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.5, 0.0]])
    edges = nn.knn_graph(x, 1)
    assert (2, 0) in _pairs(edges) and (0, 2) in _pairs(edges) and (2, 1) in _pairs(edges)
    assert (1, 2) not in _pairs(edges)


@pytest.mark.parametrize("call, match", [
    (lambda: nn.radius_graph([[0.0, 1.0]], 1.0), "coords"),
    (lambda: nn.radius_graph(torch.zeros(3, 2, dtype=torch.long), 1.0), "coords"),
    (lambda: nn.radius_graph(torch.tensor([[0.0, float("nan")]]), 1.0), "finite"),
    (lambda: nn.radius_graph(torch.zeros(3, 2), -1.0), "r must"),
    (lambda: nn.radius_graph(torch.zeros(3, 2), "1"), "r must"),
    (lambda: nn.radius_graph(torch.zeros(3, 2), 1.0, batch=torch.zeros(2, dtype=torch.long)), "batch"),
    (lambda: nn.radius_graph(torch.zeros(3, 2), 1.0, batch=torch.zeros(3)), "batch"),
    (lambda: nn.radius_graph(torch.zeros(3, 2), 1.0, max_num_neighbors=0), "max_num_neighbors"),
    (lambda: nn.radius_graph(torch.zeros(3, 2), 1.0, chunk_size=0), "chunk_size"),
    (lambda: nn.radius_graph(torch.zeros(3, 2), 1.0, loop="yes"), "loop"),
    (lambda: nn.knn_graph(torch.zeros(3, 2), 0), "k must"),
    (lambda: nn.knn_graph(torch.zeros(3, 2), 2.5), "k must"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises((InvalidValueError, InvalidTypeError), match=match):
        call()
