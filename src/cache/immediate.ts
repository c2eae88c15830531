/**
 * A task run once after the current one, however often it is asked for meanwhile: the calls made
 * in one go (a batch of kobjs, the whole start-up scan) coalesce into one run.
 */
export class ImmediateTask {
  private scheduled = false;

  constructor(private readonly run: () => void) {}

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run();
    });
  }
}
