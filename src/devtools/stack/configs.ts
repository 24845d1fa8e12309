import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StackPaths } from './paths.ts';
import { stackPorts } from './versions.ts';

/** Writes the broker, Connect and logging configs for this stack folder; returns their paths. */
export function writeStackConfigs(paths: StackPaths) {
  mkdirSync(paths.conf, { recursive: true });
  const files = {
    server: path.join(paths.conf, 'server.properties'),
    connect: path.join(paths.conf, 'connect-standalone.properties'),
    log4j: path.join(paths.conf, 'log4j2.properties'),
  };
  writeFileSync(files.server, serverProperties(paths));
  writeFileSync(files.connect, connectProperties(paths));
  writeFileSync(files.log4j, log4jProperties);
  return files;
}

// KRaft, one process that is broker and controller, a static quorum; everything replication factor 1.
const serverProperties = (p: StackPaths) => `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${stackPorts.controller}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:${stackPorts.broker},CONTROLLER://127.0.0.1:${stackPorts.controller}
advertised.listeners=PLAINTEXT://127.0.0.1:${stackPorts.broker}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${path.join(p.data, 'kraft-logs')}
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=268435456
`;

const connectProperties = (p: StackPaths) => `bootstrap.servers=127.0.0.1:${stackPorts.broker}
listeners=http://127.0.0.1:${stackPorts.connect}
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
offset.storage.file.filename=${path.join(p.data, 'connect.offsets')}
offset.flush.interval.ms=1000
plugin.path=${p.plugins}
connector.client.config.override.policy=All
`;

const log4jProperties = `status = warn
name = iot-hub-stack
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.requestlog.name = kafka.request.logger
logger.requestlog.level = WARN
`;
