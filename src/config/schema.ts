// zod schemas for the parts of vcluster.yaml this library reads. Containers
// pass unknown keys through (vcluster.yaml has hundreds we do not use); the
// kubeVip block is strict so a typo such as `interfce` is caught. The three
// leaf values are validated one by one (see vcluster.ts) so that one bad value
// never hides another.
import { z } from 'zod'
import { checkInterfaceName, parseEndpoint, parseGateway, type Parsed } from './addresses'

/** `null` (an empty YAML mapping such as `advanced:`) counts as absent, as in vCluster. */
const mapping = <T extends z.ZodRawShape>(shape: T) => z.object(shape).passthrough().nullish()

export const KUBE_VIP_KEYS = ['enabled', 'interface', 'gateway'] as const

export const kubeVipSchema = z
  .object({
    enabled: z.boolean().nullish(),
    interface: z.unknown(),
    gateway: z.unknown(),
  })
  .strict()
  .nullish()

/** The shape of the document: types of containers and booleans, unknown keys under kubeVip. */
export const documentSchema = z
  .object({
    privateNodes: mapping({ enabled: z.boolean().nullish() }),
    controlPlane: mapping({
      endpoint: z.unknown(),
      advanced: mapping({ kubeVip: kubeVipSchema }),
    }),
  })
  .passthrough()

/** zod refinement from a parser: a custom issue carrying `expected` in params. */
function fromParser<T>(parse: (text: string) => Parsed<T>) {
  return z.string().transform((text, ctx): T => {
    const result = parse(text)
    if ('problem' in result) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: result.problem, params: { expected: result.expected } })
      return z.NEVER
    }
    return result.value
  })
}

export const endpointSchema = fromParser(parseEndpoint)
export const gatewaySchema = fromParser(parseGateway)
export const interfaceSchema = z.string().superRefine((name, ctx) => {
  const problem = checkInterfaceName(name)
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem.problem, params: { expected: problem.expected } })
})
