// vcluster.yaml -> kube-vip options. See docs/configuration.md.
export { ConfigError, formatConfigIssue, formatConfigIssues, type ConfigIssue } from './errors'
export {
  parseVclusterConfig,
  type DisabledVipConfig,
  type EnabledVipConfig,
  type ParseOptions,
  type VclusterVipConfig,
  type VipGatewayConfig,
} from './vcluster'
export { MAX_CONFIG_BYTES, loadVclusterConfig, parseVclusterYaml } from './yaml'
export { MAX_INTERFACE_NAME_BYTES, checkInterfaceName, type Family } from './addresses'
