#ifndef CTHREADBUDGET_H
#define CTHREADBUDGET_H

#include "Writeback.h"
#include "BirthTime.h"

/// The CPU budget of the task running on the calling thread: how many threads its kernels may
/// use at once. 0 when no task set one (a benchmark, a test). Thread-local: the engine sets it
/// on the thread that runs a task; parallel kernels read it there, and set 1 on their workers.
int pipe_thread_budget(void);
void pipe_set_thread_budget(int threads);

#endif
