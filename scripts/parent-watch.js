// npm runs a package script through `sh -c`, and the SIGTERM npm forwards to it (`kill <npm's pid>`) reaches only
// that shell, which dies without passing it on: the script's node process lived on, orphaned, with everything it
// had started (`npm start`'s platform, `npm run monitoring`'s Prometheus). A long-running script calls this to stop
// when its parent is gone, as it does on SIGTERM.
const parentAtStart = process.ppid;

/** Calls `fn` once, within `intervalMs`, after the process that started this one has gone (its ppid changed). */
export function onParentGone(fn, intervalMs = 250) {
  const timer = setInterval(() => {
    if (process.ppid === parentAtStart) return;
    clearInterval(timer);
    fn();
  }, intervalMs);
  timer.unref();
  return timer;
}
