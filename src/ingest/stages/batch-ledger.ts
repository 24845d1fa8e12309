import type { HubMessage } from '../../kafka/index.ts';
import type { DeadLetter } from '../dead-letters.ts';

/** The counts of one batch that must reconcile (docs/architecture.md, "Accounting"). */
export interface BatchCounts {
  /** Kafka messages (or dead letters being replayed) the batch handled. */
  messages: number;
  /** Messages dead-lettered whole; the other messages loaded (some of their readings may have been dropped). */
  messagesDeadLettered: number;
  /** Readings of the messages that loaded: loaded + duplicates + dropped. */
  readings: number;
  /** Readings dropped, each a dead letter of its own naming the reading's index in its message. */
  readingsDropped: number;
}

/**
 * Keeps the dead letters of one batch and the counts they imply. A message is dead-lettered whole at most once;
 * once it is, letters for its single readings are withdrawn, so a message is either loaded (with its dropped
 * readings as letters) or one letter, never both.
 */
export class BatchLedger {
  readonly messages: number;
  private readonly wholeMessages = new Map<HubMessage, DeadLetter>();
  private readonly readingLetters = new Map<HubMessage, DeadLetter[]>();
  /** Readings of each message, counted by the map stage. */
  private readonly readingsByMessage = new Map<HubMessage, number>();

  constructor(messages: number) {
    this.messages = messages;
  }

  /** The whole message is a dead letter (malformed, no mapping, contract, a failing record). */
  deadMessage(letter: DeadLetter): void {
    if (this.wholeMessages.has(letter.record)) return;
    this.wholeMessages.set(letter.record, { ...letter, readingIndex: null });
    this.readingLetters.delete(letter.record);
  }

  /** One reading of a message is a dead letter; its other readings go on. */
  dropReading(letter: DeadLetter): void {
    if (this.wholeMessages.has(letter.record)) return;
    const list = this.readingLetters.get(letter.record);
    if (list) list.push(letter);
    else this.readingLetters.set(letter.record, [letter]);
  }

  isDead(record: HubMessage): boolean {
    return this.wholeMessages.size > 0 && this.wholeMessages.has(record);
  }

  /** Counts `n` more readings of `record`: rows the mapping emitted plus those it dropped (drop_row). */
  addReadings(record: HubMessage, n: number): void {
    this.readingsByMessage.set(record, (this.readingsByMessage.get(record) ?? 0) + n);
  }

  /**
   * A message none of whose readings survived, all dropped for the same reason (a year-old message, an
   * unknown device under quarantine), is one dead letter for the whole message rather than one per reading.
   */
  collapse(survivorsOf: (record: HubMessage) => number): void {
    for (const [record, letters] of this.readingLetters) {
      if (survivorsOf(record) > 0) continue;
      const first = letters[0]!;
      if (letters.length !== this.readingsByMessage.get(record)) continue;
      if (letters.some((l) => l.code !== first.code)) continue;
      this.deadMessage({ ...first, readingIndex: null });
    }
  }

  /** Every letter: whole messages first, in record order, then single readings. */
  letters(): DeadLetter[] {
    // A reading's letter names its reading; a collapsed message keeps the reason alone.
    const readings = [...this.readingLetters.values()]
      .flat()
      .map((l) =>
        l.readingIndex == null ? l : { ...l, message: `reading ${l.readingIndex}: ${l.message}` },
      );
    return [...this.wholeMessages.values(), ...readings];
  }

  counts(): BatchCounts {
    let readings = 0;
    let dropped = 0;
    for (const [record, n] of this.readingsByMessage) if (!this.wholeMessages.has(record)) readings += n;
    for (const list of this.readingLetters.values()) dropped += list.length;
    return {
      messages: this.messages,
      messagesDeadLettered: this.wholeMessages.size,
      readings,
      readingsDropped: dropped,
    };
  }
}
