import { stackVersions as v } from './versions.ts';

// Logging bindings that must not sit beside log4j-slf4j2-impl: two SLF4J bridges on one classpath clash.
const loggingExclusions = [
  ['org.apache.logging.log4j', 'log4j-slf4j-impl'],
  ['org.slf4j', 'slf4j-reload4j'],
  ['org.slf4j', 'slf4j-log4j12'],
  ['ch.qos.reload4j', 'reload4j'],
  ['log4j', 'log4j'],
]
  .map(([g, a]) => `<exclusion><groupId>${g}</groupId><artifactId>${a}</artifactId></exclusion>`)
  .join('');

const dep = (g: string, a: string, version: string, exclusions = '') =>
  `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${version}</version>${
    exclusions ? `<exclusions>${exclusions}</exclusions>` : ''
  }</dependency>`;

/** POM whose runtime dependencies are the broker and the Connect runtime; copied into lib/. */
export const kafkaRuntimePom = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.iot-hub</groupId><artifactId>kafka-runtime</artifactId><version>1</version><packaging>pom</packaging>
  <dependencyManagement><dependencies>${dep('org.slf4j', 'slf4j-api', v.slf4j)}</dependencies></dependencyManagement>
  <dependencies>
    ${dep('org.apache.kafka', 'kafka_2.13', v.kafka, loggingExclusions)}
    ${dep('org.apache.kafka', 'connect-runtime', v.kafka, loggingExclusions)}
    ${dep('org.apache.kafka', 'connect-json', v.kafka)}
    ${dep('org.apache.logging.log4j', 'log4j-api', v.log4j2)}
    ${dep('org.apache.logging.log4j', 'log4j-core', v.log4j2)}
    ${dep('org.apache.logging.log4j', 'log4j-slf4j2-impl', v.log4j2)}
  </dependencies>
</project>
`;

/** POM that unpacks the Debezium plugin archives (one folder per plugin) into plugins/. */
export function connectPluginsPom(pluginsDir: string): string {
  const item = (artifact: string) =>
    `<artifactItem><groupId>io.debezium</groupId><artifactId>${artifact}</artifactId><version>${v.debezium}</version><type>tar.gz</type><classifier>plugin</classifier></artifactItem>`;
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.iot-hub</groupId><artifactId>connect-plugins</artifactId><version>1</version><packaging>pom</packaging>
  <build><plugins><plugin>
    <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>${v.dependencyPlugin}</version>
    <executions><execution><id>unpack-connect-plugins</id><phase>generate-resources</phase><goals><goal>unpack</goal></goals>
      <configuration>
        <outputDirectory>${pluginsDir}</outputDirectory><overWriteReleases>true</overWriteReleases>
        <artifactItems>${item('debezium-connector-postgres')}${item('debezium-connector-jdbc')}</artifactItems>
      </configuration>
    </execution></executions>
  </plugin></plugins></build>
</project>
`;
}
