export {
  defaultConfig,
  type HubConfig,
  type LoadConfigOptions,
  loadConfig,
  parseConfigText,
} from './load.ts';
export {
  ConfigError,
  type LoadYamlFileOptions,
  loadYamlFile,
  type ValidatedYaml,
  type ValidateYamlOptions,
  validateYaml,
  type YamlPath,
} from './yaml-schema.ts';
