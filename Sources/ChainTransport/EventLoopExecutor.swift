package import NIOCore

/// A task executor that runs jobs on one NIO event loop.
///
/// A task that prefers it (`withTaskExecutorPreference`, `addTask(executorPreference:)`) and
/// talks over connections of the same loop never changes threads: the request is written on the
/// loop where the task runs (`Connection.send` sees `inEventLoop`), and the reply resumes the
/// task with a job queued on that same loop, which needs no wake-up. On the default executor each
/// request costs two: the task hands the request to the loop's thread (an eventfd write and a
/// wake-up), and the reply hands the task back to a thread of the cooperative pool (a futex wake).
///
/// What runs on it must not block: it shares the thread with every connection of the loop.
package final class EventLoopExecutor: TaskExecutor {
    package let loop: EventLoop

    package init(_ loop: EventLoop) {
        self.loop = loop
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
