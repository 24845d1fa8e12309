import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

export type LogLine = { level: number; msg: string } & Record<string, unknown>;

/**
 * A logger whose lines are kept parsed (`lines`) and as written (`raw`), for assertions on what a component
 * logs. By default a plain pino logger at debug with numeric levels; `make` builds another over the same sink
 * (the hub's own logger, to check its line shape).
 */
export function captureLogger(make: (sink: Writable) => Logger = (sink) => pino({ level: 'debug' }, sink)): {
  logger: Logger;
  lines: LogLine[];
  raw: string[];
  /** The lines of one pino level (20 debug, 30 info, 40 warn, 50 error). */
  at(level: number): LogLine[];
} {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of chunk.toString().split('\n')) {
        if (!l.trim()) continue;
        raw.push(l);
        lines.push(JSON.parse(l));
      }
      done();
    },
  });
  return {
    logger: make(sink),
    lines,
    raw,
    at: (level) => lines.filter((l) => l.level === level),
  };
}
