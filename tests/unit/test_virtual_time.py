"""The local cloud's virtual clock: time moves only when every thread of the cloud waits, whatever the pace."""

from __future__ import annotations

import functools
import threading
import time

import pytest

from sandbox.virtual_time import VirtualClock


def test_a_long_sleep_costs_no_real_time() -> None:
    with VirtualClock() as clock:
        began = time.monotonic()
        time.sleep(3600)
        assert clock.now() == 3600
    assert time.monotonic() - began < 5


def test_time_does_not_move_while_a_thread_of_the_cloud_works() -> None:
    # Given a worker that spins on the CPU for a while before it records the time
    seen: list[float] = []

    def work() -> None:
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            pass
        seen.append(clock.now())

    with VirtualClock() as clock:
        worker = threading.Thread(target=work)
        worker.start()
        # When the main thread sleeps a simulated second meanwhile
        time.sleep(1)
        worker.join()
    # Then the second passed only after the worker's work: it saw time 0
    assert seen == [0.0]


def test_timers_and_timed_waits_fire_in_deadline_order() -> None:
    order: list[tuple[str, float]] = []
    with VirtualClock() as clock:
        event = threading.Event()
        timers = [
            threading.Timer(30, lambda: order.append(("timer 30", clock.now()))),
            threading.Timer(10, lambda: order.append(("timer 10", clock.now()))),
        ]
        for timer in timers:
            timer.start()
        assert event.wait(20) is False  # nobody sets it: a timeout at simulated 20 s
        order.append(("wait 20", clock.now()))
        for timer in timers:
            timer.join()
    assert order == [("timer 10", 10), ("wait 20", 20), ("timer 30", 30)]


def test_an_event_set_before_the_deadline_ends_the_wait_without_moving_time() -> None:
    with VirtualClock() as clock:
        event = threading.Event()
        setter = threading.Timer(5, event.set)
        setter.start()
        assert event.wait(600) is True
        assert clock.now() == 5
        setter.join()


def test_join_with_a_timeout_is_simulated_time() -> None:
    with VirtualClock() as clock:
        sleeper = threading.Thread(target=time.sleep, args=(100,))
        sleeper.start()
        sleeper.join(timeout=40)
        assert sleeper.is_alive()
        assert clock.now() == 40
        sleeper.join()
        assert clock.now() == 100


def test_wait_until_looks_after_each_burst_of_work_and_not_on_a_timer() -> None:
    # Given a worker that adds one item every simulated minute
    items: list[int] = []
    looks = 0

    def produce() -> None:
        for item in range(5):
            time.sleep(60)
            items.append(item)

    def three() -> bool:
        nonlocal looks
        looks += 1
        return len(items) >= 3

    with VirtualClock() as clock:
        producer = threading.Thread(target=produce)
        producer.start()
        # When a test waits for the third item
        assert clock.wait_until(three, timeout=3600)
        # Then it is seen at the third minute exactly, after one look per minute and one at the start
        assert clock.now() == 180
        assert looks == 4
        producer.join()


def test_wait_until_gives_none_when_the_simulated_timeout_passes() -> None:
    with VirtualClock() as clock:
        assert clock.wait_until(lambda: False, timeout=90) is None
        assert clock.now() == 90


def test_the_same_result_with_a_cpu_bound_thread_beside_it() -> None:
    # A thread outside the cloud (started before the clock) keeps a core busy: the order of events is unchanged
    stop = threading.Event()

    def burn() -> None:
        while not stop.is_set():
            sum(range(1000))

    burner = threading.Thread(target=burn, daemon=True)
    burner.start()
    try:
        results = []
        for _ in range(3):
            seen: list[float] = []
            with VirtualClock() as clock:
                record = functools.partial(lambda into, c: into.append(c.now()), seen, clock)
                timers = [threading.Timer(s, record) for s in (3, 1, 2)]
                for timer in timers:
                    timer.start()
                for timer in timers:
                    timer.join()
            results.append(seen)
        assert results == [[1, 2, 3]] * 3
    finally:
        stop.set()


def test_stop_wakes_every_waiter_and_later_waits_are_real() -> None:
    clock = VirtualClock().start()
    woke = threading.Event()

    def long_wait() -> None:
        threading.Event().wait(10**6)
        woke.set()

    waiter = threading.Thread(target=long_wait)
    waiter.start()
    clock.wait_until(lambda: False, timeout=1)
    clock.stop()
    assert woke.wait(5)
    began = time.monotonic()
    time.sleep(0.01)
    assert time.monotonic() - began >= 0.01


def test_pace_keeps_simulated_time_from_running_ahead_of_real_time() -> None:
    with VirtualClock(pace=0.01) as clock:
        began = time.monotonic()
        time.sleep(20)  # 20 simulated seconds at 10 ms each
        assert clock.now() == 20
    assert time.monotonic() - began >= 0.19


def test_only_one_clock_at_a_time() -> None:
    with VirtualClock(), pytest.raises(RuntimeError, match="already running"):
        VirtualClock().start()


def test_wait_until_sees_what_ran_between_its_look_and_its_wait() -> None:
    # Given work that a thread finishes while the waiter is between evaluating its predicate and going to sleep
    done = threading.Event()
    looks = 0

    def finished() -> bool:
        nonlocal looks
        looks += 1
        if looks == 1:
            worker = threading.Thread(target=done.set)
            worker.start()
            worker.join()  # all of it happens before the waiter waits
            return False
        return done.is_set()

    with VirtualClock() as clock:
        threading.Timer(3600, lambda: None).start()
        # Then the waiter looks again before time jumps to the next deadline
        assert clock.wait_until(finished, timeout=7200)
        assert clock.now() == 0


def test_wait_until_sees_work_of_a_thread_already_running_when_it_looked() -> None:
    # Given a thread started before the waiter looks, which then works without waking anybody
    go = threading.Event()
    result: list[int] = []

    def work() -> None:
        go.wait()
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            pass
        result.append(1)

    with VirtualClock() as clock:
        threading.Timer(3600, lambda: None).start()
        worker = threading.Thread(target=work)
        worker.start()
        go.set()
        # Then the waiter looks again once the worker is done, before time moves on
        assert clock.wait_until(lambda: result, timeout=7200)
        assert clock.now() == 0
        worker.join()


def test_a_started_thread_has_begun_even_when_starts_wait_for_it_ended_early(monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox import virtual_time

    real_start = virtual_time._real_start

    def cut_short(thread: threading.Thread) -> None:
        # As when a stopping clock ends Thread.start's wait for the new thread: the thread begins a moment later
        real_start(threading.Timer(0.05, real_start, args=(thread,)))

    monkeypatch.setattr(virtual_time, "_real_start", cut_short)
    thread = threading.Thread(target=lambda: None)

    virtual_time._start(thread)

    thread.join()  # raised "cannot join thread before it is started"
    assert not thread.is_alive()
