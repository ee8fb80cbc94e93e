"""The training ETA counts the validation passes still due, not only iterations."""

from vsr.engine.eta import EtaClock


def test_validation_passes_left_include_the_last_iteration():
    clock = EtaClock(total_iters=10, val_every=4)  # passes at 4, 8 and 10
    assert [clock.validations_left(i) for i in (0, 3, 4, 7, 8, 9, 10)] == [3, 3, 2, 2, 1, 1, 0]
    assert EtaClock(12, 4).validations_left(0) == 3  # 4, 8, 12: the last is periodic
    assert EtaClock(12, None).validations_left(0) == 0


def test_eta_adds_the_mean_pass_to_the_iteration_time():
    clock = EtaClock(total_iters=100, val_every=25)
    assert clock.seconds_left(0) is None and clock.describe(0) == "?"
    clock.trained(2.0, iters=10)  # 0.2 s per iteration
    assert clock.seconds_left(10) == 90 * 0.2  # no pass timed yet: training alone
    assert clock.describe(10) == "0:00:18 + validation"
    clock.validated(30.0)
    clock.validated(50.0)  # mean pass 40 s
    # at iteration 30: 70 iterations (14 s) and passes at 50, 75, 100 (120 s)
    assert clock.seconds_left(30) == 70 * 0.2 + 3 * 40.0
    assert clock.describe(30) == "0:02:14"
    # tqdm's estimate after the first pass: 30 iterations took 6 s + 30 s of validation
    tqdm_like = 70 * (6.0 + 30.0) / 30
    assert abs(tqdm_like - clock.seconds_left(30)) > 40
