export {
  ConfigError,
  defaultConfig,
  type HubConfig,
  type LoadConfigOptions,
  loadConfig,
  parseConfigText,
} from './load.ts';
