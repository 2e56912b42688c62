import numpy as np
import pytest

from phasetrace.models import FLOQUET, MBL


def test_disorder_is_shared_across_eps_and_independent_of_blocking():
    a = MBL.simulate(seed=5, L=8, W=2.0, eps=[0.2], realizations=[0, 1, 2])
    b = MBL.simulate(seed=5, L=8, W=2.0, eps=[0.7], realizations=[2])
    assert np.array_equal(a["field"][2], b["field"][0])
    assert a["E0"][2] == b["E0"][0]


def test_realizations_differ_between_W_points_and_seeds():
    f1, _ = MBL.disorder(5, 8, 2.0, [0])
    f2, _ = MBL.disorder(5, 8, 2.125, [0])
    f3, _ = MBL.disorder(6, 8, 2.0, [0])
    assert not np.allclose(f1 / 2.0, f2 / 2.125) and not np.allclose(f1, f3)
    assert np.all(np.abs(f1) <= 2.0)


def test_floquet_draws_do_not_depend_on_eps_or_block():
    a = FLOQUET.simulate(seed=1, L=6, eps=[0.1], realizations=[0, 1], periods=3)
    b = FLOQUET.simulate(seed=1, L=6, eps=[0.9], realizations=[1], periods=3)
    for key in ("coupling", "field", "initial_state"):
        assert np.array_equal(a[key][1], b[key][0])
    assert np.all((a["coupling"] >= 0) & (a["coupling"] <= 0.5))


def test_seed_must_be_a_non_negative_integer():
    with pytest.raises(ValueError, match="seed = -3"):
        MBL.disorder(-3, 8, 1.0, [0])
