// How long the engine reads a runtime's pipes after the runtime exited.

/**
 * Resolves once `ended` does (the pipes reached their end) or, if something else keeps them open
 * (a grandchild that holds them), `ms` after the exit, once the event loop has read all that was
 * waiting in them: a poll of the pipes that adds nothing to `bytesRead`.
 *
 * The deadline alone is not enough on a busy machine. libuv reaps every exited child when one
 * SIGCHLD comes, so a runtime's exit can be handled in a poll whose ready list did not have its
 * pipes yet; if the engine then works longer than `ms` (other runs ending, at load 35–50), the
 * next loop turn runs its timers before its poll, and a deadline taken as the end left every frame
 * and all the output the runtime wrote before it exited unread: "the runtime exited (code 0) before
 * the snippet started, without a word on its channel", seen in bursts under load.
 */
export function drainAfterExit(ended: Promise<unknown>, bytesRead: () => number, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve();
    };
    void ended.then(finish, finish);
    timer = setTimeout(() => {
      // An immediate runs after the loop's poll, which reads what the pipes hold: wait for one
      // that read nothing new (a writer that never stops is given `ms` more, no longer).
      const until = performance.now() + ms;
      let seen = bytesRead();
      const look = () => {
        if (done) return;
        const now = bytesRead();
        if (now === seen || performance.now() > until) finish();
        else {
          seen = now;
          setImmediate(look);
        }
      };
      setImmediate(look);
    }, ms);
  });
}
