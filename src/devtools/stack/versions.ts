/**
 * Versions of the local stack. Debezium 3.5.2.Final is only partly served by Maven Central (its parent POM
 * `debezium-build-parent` is missing, so its plugin archive cannot be resolved); 3.5.0.Final resolves whole and was
 * built against Kafka 4.1.1, the same minor line as the broker and Connect runtime below.
 */
export const stackVersions = {
  kafka: '4.1.2',
  debezium: '3.5.0.Final',
  log4j2: '2.24.3',
  slf4j: '2.0.17',
  dependencyPlugin: '3.6.1',
} as const;

export const stackPorts = { broker: 19092, controller: 19093, connect: 18083 } as const;
