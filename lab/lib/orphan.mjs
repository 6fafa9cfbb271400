// Lab children end themselves when the lab process disappears without cleaning up (SIGKILL):
// Node has no PR_SET_PDEATHSIG, so they watch their parent pid instead.
export function exitWhenOrphaned() {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 500);
  timer.unref();
}
