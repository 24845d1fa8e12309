import { describe, expect, it } from 'vitest';

describe('silenceKafkajsTimeoutWarning', () => {
  it('changes nothing on import, drops only TimeoutNegativeWarning once called, and is idempotent', async () => {
    const before = process.listeners('warning');
    const { silenceKafkajsTimeoutWarning } = await import('../../../src/kafka/index.ts');
    expect(process.listeners('warning')).toEqual(before);

    const seen: string[] = [];
    const spy = (w: Error) => seen.push(w.name);
    process.on('warning', spy);
    silenceKafkajsTimeoutWarning();
    silenceKafkajsTimeoutWarning();
    expect(process.listeners('warning')).toHaveLength(1);

    const [listener] = process.listeners('warning');
    listener!(Object.assign(new Error('-1 is a negative number'), { name: 'TimeoutNegativeWarning' }));
    listener!(Object.assign(new Error('something else'), { name: 'DeprecationWarning' }));
    expect(seen).toEqual(['DeprecationWarning']);
  });
});
