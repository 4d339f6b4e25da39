import { spawn, type ChildProcess } from 'node:child_process';
import { procProbe, type ServerProbe } from './sampler.ts';

const STOP_GRACE_MS = 3000;
/** Kept of ffmpeg's stderr for the report when it exits early. */
const STDERR_TAIL = 400;

/**
 * One real encoder-like publisher: `ffmpeg -re -stream_loop -1 -i FILE -c copy -f flv URL`
 * (or, for an rtsp:// URL, `-f rtsp -rtsp_transport tcp`: ANNOUNCE/RECORD, RTP interleaved).
 * ffmpeg paces the file at its frame rate and loops it with rising timestamps, as a
 * long-running OBS or camera would, at the cost of one process per stream.
 */
export class FfmpegPublisher {
  readonly probe: ServerProbe;
  private readonly child: ChildProcess;
  private stderr = '';
  private exitCode: number | null | undefined = undefined;
  private stopping = false;
  private readonly exited: Promise<void>;

  constructor(file: string, url: string) {
    // prettier-ignore
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-re', '-stream_loop', '-1', '-i', file,
      '-c', 'copy',
      ...(url.startsWith('rtsp:') ? ['-f', 'rtsp', '-rtsp_transport', 'tcp'] : ['-f', 'flv']),
      url,
    ];
    this.child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-STDERR_TAIL);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        this.exitCode = code;
        resolve();
      });
      this.child.on('error', (e) => {
        this.stderr = e.message;
        this.exitCode = -1;
        resolve();
      });
    });
    this.probe = procProbe(this.child.pid ?? -1);
  }

  /** Why it ended before the bench stopped it, or null while it runs (or was stopped). */
  get endedEarly(): string | null {
    if (this.exitCode === undefined || this.stopping) return null;
    return `ffmpeg exited with ${this.exitCode}: ${this.stderr.trim() || 'no message'}`;
  }

  /** SIGTERM (ffmpeg closes its output), SIGKILL after a grace period; only this child. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGTERM');
    const kill = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(kill);
  }
}
