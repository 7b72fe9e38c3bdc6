"""pytest-xdist's group scheduling, made safe for a worker that crashes.

A test that takes its worker down with it (a native crash in an extension) is reported
failed by xdist, which starts a new worker. With `--dist loadgroup`, xdist 3.8 then hangs
until it is killed (pytest-xdist issues 1323 and 1327): it queues again every group the dead
worker ever ran, finished ones included, which a worker never reports done; and it gives
the new worker a single test, which a worker does not start until it knows the next one.
One crash cost a CI run its 90 minutes. Here a crash costs its test only.
"""

from __future__ import annotations

from xdist.scheduler import LoadGroupScheduling
from xdist.workermanage import WorkerController


class CrashSafeGroupScheduling(LoadGroupScheduling):
    def remove_node(self, node: WorkerController) -> str | None:
        """Forget `node`; if it died with tests to run, queue again the groups they are in.

        The test it died on is not run again: xdist has reported it failed, and running
        it again would most likely take the new worker down too.
        """
        workload = self.assigned_work.pop(node)
        unfinished = {group: tests for group, tests in workload.items() if not all(tests.values())}
        if not unfinished:
            return None
        # The worker runs its groups, and their tests, in the order they were given.
        running = next(iter(unfinished.values()))
        crashed = next(nodeid for nodeid, done in running.items() if not done)
        running[crashed] = True
        self.workqueue.update(
            (group, tests) for group, tests in unfinished.items() if not all(tests.values())
        )
        for other in self.assigned_work:
            self._reschedule(other)
        return crashed

    def _reschedule(self, node: WorkerController) -> None:
        super()._reschedule(node)
        # A worker starts a test once it has the next one or is told to stop. The first
        # round gives each worker two groups for that reason; a worker started later, in
        # place of a crashed one, gets one group here, which may hold a single test.
        if not node.shutting_down and self._pending_of(self.assigned_work[node]) < 2:
            super()._reschedule(node)
