/**
 * Converts Kubernetes' OpenAPI v2 document (api/openapi-spec/swagger.json of k8s.io/kubernetes)
 * into the JSON schemas kubeconform loads: one self-contained file per kind and API version,
 * named the way kubeconform's `{{.ResourceKind}}{{.KindSuffix}}` template names them.
 *
 * Each file is a JSON Schema (draft 4, kubeconform's default) whose root is the kind's definition
 * and whose `definitions` hold every definition it reaches, so its `$ref`s (`#/definitions/NAME`)
 * resolve inside the file: no network, no other file. Recursive definitions (JSONSchemaProps)
 * stay recursive instead of being cut off.
 *
 * Pure: a parsed document in, file names and schema objects out.
 */

/** A schema node as the OpenAPI v2 document writes it (the keywords Kubernetes uses). */
export interface OpenApiSchema {
  readonly type?: string;
  readonly format?: string;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, OpenApiSchema>>;
  readonly additionalProperties?: OpenApiSchema | boolean;
  readonly items?: OpenApiSchema;
  readonly required?: readonly string[];
  readonly $ref?: string;
  readonly 'x-kubernetes-group-version-kind'?: readonly GroupVersionKind[];
  readonly [extension: string]: unknown;
}

/** The part of an OpenAPI v2 document the conversion reads. */
export interface OpenApiDocument {
  readonly swagger?: string;
  readonly definitions: Readonly<Record<string, OpenApiSchema>>;
}

/** One kind a definition serves; `group` is '' for the core API group. */
export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** A JSON Schema object as written to a file. */
export type JsonSchema = { [keyword: string]: unknown };

/** Options of the conversion. */
export interface StandaloneSchemaOptions {
  /**
   * Strict: objects with declared properties get `additionalProperties: false`, so a misspelt or
   * unknown field is an error (kubeconform's `-strict` only adds duplicate-key checks itself).
   * @default true
   */
  readonly strict?: boolean;
}

const DEFINITION_REF = '#/definitions/';
const INT_OR_STRING = 'int-or-string';
/** Quantities ("100m", "1Gi") are strings on the wire, but the API server also accepts plain numbers. */
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** The API version an object of this kind carries: `v1` for the core group, else `group/version`. */
export function apiVersionOf(gvk: GroupVersionKind): string {
  return gvk.group === '' ? gvk.version : `${gvk.group}/${gvk.version}`;
}

/**
 * The file kubeconform looks for: lower-case kind, then `-<first DNS label of the group>` unless
 * the group is core, then `-<version>`: deployment-apps-v1.json, service-v1.json,
 * ingress-networking-v1.json.
 */
export function schemaFileName(gvk: GroupVersionKind): string {
  const group = gvk.group === '' ? '' : `-${gvk.group.split('.')[0].toLowerCase()}`;
  return `${gvk.kind.toLowerCase()}${group}-${gvk.version.toLowerCase()}.json`;
}

/** The definition name a `$ref` points at, or throws if it points outside `definitions`. */
function refTarget(ref: string, where: string): string {
  if (!ref.startsWith(DEFINITION_REF)) {
    throw new Error(`${where}: $ref must point into #/definitions/, got ${JSON.stringify(ref)}`);
  }
  return ref.slice(DEFINITION_REF.length);
}

/** Rewrites one schema node into validation keywords only, collecting the definitions it references. */
function convertNode(node: OpenApiSchema, where: string, strict: boolean, refs: Set<string>): JsonSchema {
  if (node.$ref !== undefined) {
    // Draft 4 ignores a $ref's siblings (descriptions), so the reference stands alone.
    refs.add(refTarget(node.$ref, where));
    return { $ref: node.$ref };
  }
  if (node.format === INT_OR_STRING) {
    return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  }
  const out: JsonSchema = {};
  if (node.type !== undefined) out.type = node.type;
  if (node.format !== undefined) out.format = node.format;
  if (node.required !== undefined && node.required.length > 0) out.required = [...node.required];
  if (node.items !== undefined) out.items = convertNode(node.items, `${where}.items`, strict, refs);
  if (node.properties !== undefined) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([name, child]) => [name, convertNode(child, `${where}.properties.${name}`, strict, refs)]),
    );
  }
  if (typeof node.additionalProperties === 'object') {
    out.additionalProperties = convertNode(node.additionalProperties, `${where}.additionalProperties`, strict, refs);
  } else if (typeof node.additionalProperties === 'boolean') {
    out.additionalProperties = node.additionalProperties;
  } else if (strict && node.properties !== undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** One definition converted; Quantity widened to what the API server accepts. */
function convertDefinition(name: string, definition: OpenApiSchema, strict: boolean, refs: Set<string>): JsonSchema {
  if (name === QUANTITY) return { oneOf: [{ type: 'string' }, { type: 'number' }] };
  return convertNode(definition, `definitions[${JSON.stringify(name)}]`, strict, refs);
}

/**
 * Every kind's standalone schema, keyed by kubeconform's file name.
 * @throws Error when a `$ref` points at a missing definition, or two definitions claim one file.
 */
export function standaloneSchemas(doc: OpenApiDocument, options: StandaloneSchemaOptions = {}): Map<string, JsonSchema> {
  const strict = options.strict ?? true;
  if (doc.definitions === undefined || typeof doc.definitions !== 'object') {
    throw new Error('the OpenAPI document has no "definitions" object (is it an OpenAPI v2 swagger.json?)');
  }

  // Convert every definition once, remembering which definitions each one references directly.
  const converted = new Map<string, { schema: JsonSchema; refs: Set<string> }>();
  for (const [name, definition] of Object.entries(doc.definitions)) {
    const refs = new Set<string>();
    converted.set(name, { schema: convertDefinition(name, definition, strict, refs), refs });
  }
  for (const [name, { refs }] of converted) {
    for (const target of refs) {
      if (!converted.has(target)) throw new Error(`definitions[${JSON.stringify(name)}]: $ref to missing definition ${JSON.stringify(target)}`);
    }
  }

  /** The definitions reachable from `root`, root excluded unless it reaches itself. */
  const reachable = (root: string): string[] => {
    const seen = new Set<string>();
    const queue = [...converted.get(root)!.refs];
    while (queue.length > 0) {
      const next = queue.shift()!;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...converted.get(next)!.refs);
    }
    return [...seen].sort();
  };

  const files = new Map<string, JsonSchema>();
  const owner = new Map<string, string>();
  for (const [name, definition] of Object.entries(doc.definitions)) {
    for (const gvk of definition['x-kubernetes-group-version-kind'] ?? []) {
      const file = schemaFileName(gvk);
      const previous = owner.get(file);
      if (previous !== undefined) {
        throw new Error(`${file}: both definitions ${JSON.stringify(previous)} and ${JSON.stringify(name)} serve ${apiVersionOf(gvk)} ${gvk.kind}`);
      }
      owner.set(file, name);

      const root = converted.get(name)!.schema;
      const properties = { ...(root.properties as Record<string, JsonSchema> | undefined) };
      // The file is chosen by apiVersion and kind; pin them so a schema can only pass its own kind.
      properties.apiVersion = { type: 'string', enum: [apiVersionOf(gvk)] };
      properties.kind = { type: 'string', enum: [gvk.kind] };
      const definitions = Object.fromEntries(reachable(name).map((n) => [n, converted.get(n)!.schema]));
      files.set(file, {
        $schema: 'http://json-schema.org/draft-04/schema#',
        ...root,
        properties,
        ...(Object.keys(definitions).length > 0 ? { definitions } : {}),
      });
    }
  }
  return files;
}
