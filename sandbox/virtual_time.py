"""Virtual time for the local cloud: simulated seconds that pass only while every thread of the cloud waits.

A local cloud runs Step Functions executions, deliveries, timers and the data plane as threads of one process.
With a real clock scaled down, a busy machine lets a 10-minute bake end before the work it should see has run.
Here time is a number the clock moves on only when no thread of the cloud can make progress: every one of them is
blocked in a wait (`time.sleep`, `Condition.wait` and so `Event.wait`, `Thread.join`, `threading.Timer`). The
clock then jumps to the earliest deadline and wakes that waiter. The result is the same on a quiet and on a busy
machine, and a test's hours of simulated time cost only the work done in them.

How it knows who can make progress:
- the threads of the cloud are the thread that started the clock and every thread started while it runs;
- such a thread is *running* unless it is inside one of the waits above; a thread that notifies a condition or
  sets an event marks the waiters it wakes as running at once, so no moment looks idle by mistake;
- a thread blocked somewhere the clock cannot see (a contended lock, I/O) counts as running, so time waits for
  it. If nothing changes for `stall_seconds` of real time while time is due to move, the clock logs the running
  threads' stacks and moves on, so that a mistake shows as a warning rather than a hang.

`wait_until(predicate, timeout)` is how a test waits for something: the predicate is checked again at each idle
moment after any thread has run, before time moves on, so no interval is guessed and none is polled.

With `pace`, simulated time also never runs ahead of `pace` real seconds per simulated second (the demo's
watchable speed); the order of events is the same.

The patches to `threading` and `time` are installed once per process and act only for the threads of the running
clock; every other thread gets the standard library's own behaviour.
"""

from __future__ import annotations

import _thread
import contextlib
import functools
import heapq
import itertools
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_log = logging.getLogger("sandbox.virtual_time")

_real_sleep = time.sleep
_real_wait = threading.Condition.wait
_real_notify = threading.Condition.notify
_real_start = threading.Thread.start
_real_join = threading.Thread.join

_ACTIVE: VirtualClock | None = None
_TRACE = bool(os.environ.get("VIRTUAL_TIME_TRACE"))  # log each move of time with the stack of the wait it ends


@dataclass(eq=False)
class _Waiter:
    """One thread blocked in one wait: the lock it sleeps on, the condition it waits for, its deadline."""

    thread: threading.Thread
    lock: Any
    condition: threading.Condition | None = None
    deadline: float | None = None
    watch: bool = False  # a wait_until: woken at the next idle moment after something ran
    seen: int = 0  # the others' activity count when a watcher last looked
    fired: bool = False  # woken by the clock: its deadline came, or (a watcher) something ran
    claimed: bool = False  # woken by a notify
    done: bool = False
    seq: int = 0
    stack: str = ""  # where it waits, kept when tracing


@dataclass
class _Stall:
    version: int = -1
    since: float = 0.0
    reported: bool = False


class VirtualClock:
    """Simulated seconds from 0; `start()` makes it the clock of the calling thread and the threads it starts."""

    def __init__(self, pace: float | None = None, stall_seconds: float = 10.0) -> None:
        self.pace = pace
        self.stall_seconds = stall_seconds
        self._cv = threading.Condition(threading.Lock())
        self._now = 0.0
        self._participants: set[threading.Thread] = set()
        self._running: set[threading.Thread] = set()
        self._timers: list[tuple[float, int, _Waiter]] = []
        self._watchers: list[_Waiter] = []
        self._by_lock: dict[Any, _Waiter] = {}
        self._seq = itertools.count()
        # How many times a thread was woken, started, went to wait or ended: a watcher looks again when the count
        # moved by another thread than its own (`_own` counts each thread's waits).
        self._activity = 0
        self._own: dict[threading.Thread, int] = {}
        self._version = 0  # any change of state: the stall detector's measure of progress
        self._stall = _Stall()
        self._stopped = False
        self._anchor = (0.0, time.monotonic())
        self._driver: threading.Thread | None = None
        self.stalls = 0

    # -- life cycle -----------------------------------------------------------------------------------------------

    def start(self) -> VirtualClock:
        global _ACTIVE  # noqa: PLW0603 - one clock drives the process's cloud threads at a time
        if _ACTIVE is not None:
            raise RuntimeError("a virtual clock is already running in this process")
        _install()
        self._anchor = (self._now, time.monotonic())
        self._driver = threading.Thread(target=self._drive, name="virtual-clock", daemon=True)
        self._driver.start()  # started before the clock is active: the driver is not one of its threads
        me = threading.current_thread()
        with self._cv:
            self._participants.add(me)
            self._running.add(me)
        _ACTIVE = self
        return self

    def stop(self) -> None:
        """Leave virtual time: every waiter wakes as if its deadline had come, later waits are real ones."""
        global _ACTIVE  # noqa: PLW0603
        if _ACTIVE is self:
            _ACTIVE = None
        with self._cv:
            self._stopped = True
            for waiter in list(self._by_lock.values()):
                self._fire(waiter)
            self._participants.clear()
            self._running.clear()
            _real_notify(self._cv)
        if self._driver is not None:
            self._driver.join()

    def __enter__(self) -> VirtualClock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- reading and waiting ------------------------------------------------------------------------------------

    def now(self) -> float:
        """Simulated seconds since the clock was made."""
        return self._now

    def sleep(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass for the calling thread."""
        if seconds <= 0 or not self._is_mine():
            _real_sleep(max(0.0, seconds))
            return
        lock = _thread.allocate_lock()
        lock.acquire()
        waiter = self._block(lock, deadline=self._now + seconds)
        try:
            lock.acquire()
        finally:
            self._unblock(waiter)

    def wait_until(self, predicate: Callable[[], Any], timeout: float, real_timeout: float = 300.0) -> Any:
        """Return the predicate's first true value, checked whenever the cloud is idle after any thread ran.

        `timeout` is simulated seconds; `real_timeout` only guards against a hang and raises TimeoutError.
        Returns None when `timeout` passes first.
        """
        deadline = self._now + timeout
        real_deadline = time.monotonic() + real_timeout
        while True:
            # What ran from here on counts as news, even if it all happens before this thread waits.
            seen = self._others()
            value = predicate()
            if value:
                return value
            if self._now >= deadline or self._stopped:
                return None
            if time.monotonic() > real_deadline:
                raise TimeoutError(f"not reached in {real_timeout} s of real time, at simulated {self._now:.1f} s")
            if not self._is_mine():
                _real_sleep(0.01)
                continue
            lock = _thread.allocate_lock()
            lock.acquire()
            waiter = self._block(lock, deadline=deadline, watch=True, seen=seen)
            try:
                lock.acquire()
            finally:
                self._unblock(waiter)

    # -- bookkeeping (called by the patched waits) ---------------------------------------------------------------

    def _is_mine(self, thread: threading.Thread | None = None) -> bool:
        return (thread or threading.current_thread()) in self._participants and not self._stopped

    def _changed(self) -> None:
        self._version += 1
        if not self._running:
            _real_notify(self._cv)

    def _block(
        self,
        lock: Any,
        deadline: float | None,
        condition: threading.Condition | None = None,
        watch: bool = False,
        seen: int | None = None,
    ) -> _Waiter:
        thread = threading.current_thread()
        waiter = _Waiter(thread, lock, condition, deadline, watch, seq=next(self._seq))
        if _TRACE and deadline is not None:
            waiter.stack = "".join(traceback.format_stack(limit=12)[:-2])
        with self._cv:
            waiter.seen = self._others(thread) if seen is None else seen
            self._by_lock[lock] = waiter
            if deadline is not None:
                heapq.heappush(self._timers, (deadline, waiter.seq, waiter))
            if watch:
                self._watchers.append(waiter)
            self._running.discard(thread)
            if not watch:
                self._activity += 1
                self._own[thread] = self._own.get(thread, 0) + 1
            if self._stopped:
                self._fire(waiter)
            self._changed()
        return waiter

    def _unblock(self, waiter: _Waiter) -> None:
        with self._cv:
            waiter.done = True
            self._by_lock.pop(waiter.lock, None)
            if waiter.watch and waiter in self._watchers:
                self._watchers.remove(waiter)
            if waiter.thread in self._participants:
                self._running.add(waiter.thread)
            self._version += 1

    def _claim(self, lock: Any) -> bool:
        """A notify wants to wake the thread sleeping on `lock`: yes, unless the clock woke it already."""
        with self._cv:
            waiter = self._by_lock.get(lock)
            if waiter is None:
                return True
            if waiter.fired:
                return False
            waiter.claimed = True
            self._wake(waiter.thread)
            return True

    def _wake(self, thread: threading.Thread) -> None:
        if thread in self._participants:
            self._running.add(thread)
        self._activity += 1
        self._version += 1

    def _fire(self, waiter: _Waiter) -> None:
        """Wake a waiter because its deadline came (or a watcher's moment): it returns as a timeout."""
        if waiter.claimed or waiter.fired or waiter.done:
            return
        waiter.fired = True
        if waiter.condition is not None:
            with contextlib.suppress(ValueError):
                waiter.condition._waiters.remove(waiter.lock)  # type: ignore[attr-defined]
        if not waiter.watch:
            self._activity += 1
        if waiter.thread in self._participants:
            self._running.add(waiter.thread)
        self._version += 1
        waiter.lock.release()

    def _adopt(self, thread: threading.Thread) -> None:
        """A thread started by a thread of the clock: it is one of them, running until its target returns."""
        done = threading.Event()
        run = thread.run

        def run_then_leave() -> None:
            try:
                run()
            finally:
                done.set()
                self._leave(thread)

        thread.run = run_then_leave  # type: ignore[method-assign]
        thread._virtual_done = done  # type: ignore[attr-defined]
        with self._cv:
            self._participants.add(thread)
            self._wake(thread)

    def _leave(self, thread: threading.Thread) -> None:
        with self._cv:
            self._participants.discard(thread)
            self._running.discard(thread)
            self._own.pop(thread, None)
            self._activity += 1
            self._changed()

    # -- the driver -----------------------------------------------------------------------------------------------

    def _drive(self) -> None:
        with self._cv:
            while not self._stopped:
                if self._running or not self._timers_live():
                    self._idle_or_stalled()
                    continue
                self._advance()

    def _others(self, thread: threading.Thread | None = None) -> int:
        """The activity of every thread but `thread` (by default the calling one)."""
        return self._activity - self._own.get(thread or threading.current_thread(), 0)

    def _fresh(self, watcher: _Waiter) -> bool:
        return self._others(watcher.thread) != watcher.seen

    def _timers_live(self) -> bool:
        while self._timers and (self._timers[0][2].done or self._timers[0][2].fired or self._timers[0][2].claimed):
            heapq.heappop(self._timers)
        return bool(self._timers) or any(self._fresh(w) for w in self._watchers)

    def _idle_or_stalled(self) -> None:
        waiting_on_work = bool(self._running) and bool(self._timers)
        _real_wait(self._cv, self.stall_seconds / 4 if waiting_on_work else None)
        if not (self._running and self._timers) or self._stopped:
            self._stall = _Stall()
            return
        stall = self._stall
        real = time.monotonic()
        if stall.version != self._version:
            self._stall = _Stall(self._version, real)
        elif real - stall.since >= self.stall_seconds:
            self._report_stall()
            self._running.clear()  # move on: the threads still count as running when they next wait or wake

    def _report_stall(self) -> None:
        self.stalls += 1
        frames = sys._current_frames()
        stacks = []
        for thread in self._running:
            frame = frames.get(thread.ident or -1)
            stack = "".join(traceback.format_stack(frame, limit=6)) if frame else "  (no frame)\n"
            stacks.append(f"{thread.name}:\n{stack}")
        _log.warning(
            "virtual clock: no progress for %.0f s of real time at simulated %.1f s; moving on. Running:\n%s",
            self.stall_seconds,
            self._now,
            "\n".join(stacks),
        )
        self._stall = _Stall()

    def _advance(self) -> None:
        fresh = [w for w in self._watchers if self._fresh(w)]
        if fresh:
            for watcher in fresh:
                self._fire(watcher)
            return
        deadline = self._timers[0][0]
        if self.pace:
            virtual, real = self._anchor
            lag = real + (deadline - virtual) * self.pace - time.monotonic()
            if lag > 0:
                _real_wait(self._cv, lag)
                return  # look again: a stop may have come
        if _TRACE:
            waiter = self._timers[0][2]
            name, stack = waiter.thread.name, waiter.stack
            _log.warning("virtual clock: %.3f -> %.3f for %s at\n%s", self._now, deadline, name, stack)
        self._now = max(self._now, deadline)
        while self._timers and self._timers[0][0] <= self._now:
            _, _, waiter = heapq.heappop(self._timers)
            self._fire(waiter)


def current() -> VirtualClock | None:
    """The running clock, if any."""
    return _ACTIVE


# -- the patches ------------------------------------------------------------------------------------------------


def _mine() -> VirtualClock | None:
    clock = _ACTIVE
    return clock if clock is not None and clock._is_mine() else None


def _sleep(seconds: float) -> None:
    clock = _mine()
    if clock is None:
        _real_sleep(seconds)
    else:
        clock.sleep(seconds)


def _wait(self: threading.Condition, timeout: float | None = None) -> bool:
    clock = _mine()
    if clock is None or (timeout is not None and timeout <= 0):
        return _real_wait(self, timeout)
    if not self._is_owned():  # type: ignore[attr-defined]
        raise RuntimeError("cannot wait on un-acquired lock")
    lock = _thread.allocate_lock()
    lock.acquire()
    self._waiters.append(lock)  # type: ignore[attr-defined]
    # Registered while the condition's lock is held, so that no notify can come between.
    waiter = clock._block(lock, None if timeout is None else clock.now() + timeout, condition=self)
    saved = self._release_save()  # type: ignore[attr-defined]
    notified = False
    try:
        lock.acquire()
        notified = not waiter.fired
        return notified
    finally:
        clock._unblock(waiter)
        self._acquire_restore(saved)  # type: ignore[attr-defined]
        if not notified:
            with contextlib.suppress(ValueError):
                self._waiters.remove(lock)  # type: ignore[attr-defined]


def _notify(self: threading.Condition, n: int = 1) -> None:
    if not self._is_owned():  # type: ignore[attr-defined]
        raise RuntimeError("cannot notify on un-acquired lock")
    clock = _ACTIVE
    waiters = self._waiters  # type: ignore[attr-defined]
    while waiters and n > 0:
        lock = waiters[0]
        try:
            waiters.remove(lock)
        except ValueError:
            continue
        if clock is None or clock._claim(lock):
            try:
                lock.release()
            except RuntimeError:
                continue
            n -= 1


def _notify_all(self: threading.Condition) -> None:
    _notify(self, len(self._waiters))  # type: ignore[attr-defined]


def _start(self: threading.Thread) -> None:
    clock = _ACTIVE
    if clock is not None and not clock._stopped:
        clock._adopt(self)
    _real_start(self)
    # Thread.start waits once for the new thread on a Condition whose wait the clock owns; a stopping clock ends that
    # wait early, and start would return before the thread began, so that a join raises "cannot join thread before
    # it is started". The thread's own start takes no simulated time: wait for it in real time.
    started = self._started  # type: ignore[attr-defined]
    with started._cond:
        while not started._flag:
            _real_wait(started._cond, 0.01)


def _join(self: threading.Thread, timeout: float | None = None) -> None:
    done: threading.Event | None = getattr(self, "_virtual_done", None)
    if done is None or _mine() is None:
        _real_join(self, timeout)
        return
    if done.wait(timeout):
        _real_join(self)  # past its target: returns at once


@functools.cache
def _install() -> None:
    time.sleep = _sleep
    threading.Condition.wait = _wait  # type: ignore[method-assign]
    threading.Condition.notify = _notify  # type: ignore[method-assign]
    threading.Condition.notify_all = _notify_all  # type: ignore[method-assign]
    threading.Thread.start = _start  # type: ignore[method-assign]
    threading.Thread.join = _join  # type: ignore[method-assign]


PATCHED: tuple[tuple[Any, str], ...] = (
    (time, "sleep"),
    (threading.Condition, "wait"),
    (threading.Condition, "notify"),
    (threading.Condition, "notify_all"),
    (threading.Thread, "start"),
    (threading.Thread, "join"),
)
"""What `_install` replaces in the standard library, for the seam test."""

__all__ = ["PATCHED", "VirtualClock", "current"]
