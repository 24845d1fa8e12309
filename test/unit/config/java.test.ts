import { describe, expect, it } from 'vitest';
import { StackError } from '../../../src/devtools/stack/index.ts';
import { findJava } from '../../../src/devtools/stack/tools.ts';

describe('stack prerequisites', () => {
  it('says how to get Java when JAVA_HOME points nowhere', () => {
    const saved = process.env.JAVA_HOME;
    process.env.JAVA_HOME = '/nonexistent/jdk';
    try {
      expect(() => findJava()).toThrow(StackError);
      expect(() => findJava()).toThrow(
        /^Java was not found \(\/nonexistent\/jdk\/bin\/java\)\. Kafka 4 needs Java 17 or newer: install it/,
      );
    } finally {
      if (saved === undefined) delete process.env.JAVA_HOME;
      else process.env.JAVA_HOME = saved;
    }
  });

  it('finds the machine Java 17+', () => {
    expect(findJava().version).toBeGreaterThanOrEqual(17);
  });
});
