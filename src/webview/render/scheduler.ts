// One requestAnimationFrame loop: anything that changes the picture marks it dirty, drawing happens
// at most once a frame. While `animating()` holds (a run with pending bars) it keeps drawing.

export class FrameScheduler {
  private handle = 0;
  private disposed = false;

  constructor(
    private readonly draw: (time: number) => void,
    private readonly animating: () => boolean = () => false,
  ) {}

  /** Asks for one frame; many calls before it runs still draw once. */
  request(): void {
    if (this.handle || this.disposed) return;
    this.handle = requestAnimationFrame((time) => {
      this.handle = 0;
      this.draw(time);
      if (this.animating()) this.request();
    });
  }

  /** Draws now, synchronously (tests, benchmarks, export). */
  flush(): void {
    if (this.handle) {
      cancelAnimationFrame(this.handle);
      this.handle = 0;
    }
    this.draw(performance.now());
    if (this.animating()) this.request();
  }

  dispose(): void {
    this.disposed = true;
    if (this.handle) cancelAnimationFrame(this.handle);
    this.handle = 0;
  }
}
