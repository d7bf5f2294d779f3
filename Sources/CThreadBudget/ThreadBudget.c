#include "CThreadBudget.h"

static _Thread_local int budget = 0;

int pipe_thread_budget(void) { return budget; }

void pipe_set_thread_budget(int threads) { budget = threads > 0 ? threads : 0; }
