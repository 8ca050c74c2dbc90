import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ECSClient, RunTaskCommand } from "@aws-sdk/client-ecs";
import { INSTANCE_ENV_VARS, InstanceConfigSchema } from "@vdb/instance/config";
import { mockClient } from "aws-sdk-client-mock";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema } from "../config";
import { EcsRuntime } from "./ecs-runtime";

// Keeps infra/ in step with the code: the ECS task definition template, the env the EcsRuntime
// injects and the instance's config schema must agree, and the Dockerfiles must expose what the
// task definition maps. (No Docker or hadolint here: this is the lint we can run.)

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const read = (file: string) => readFileSync(`${ROOT}${file}`, "utf8");

interface ContainerDefinition {
  name: string;
  portMappings: { containerPort: number; protocol?: string }[];
  environment: { name: string; value: string }[];
  secrets?: { name: string; valueFrom: string }[];
  mountPoints: { sourceVolume: string; containerPath: string }[];
  logConfiguration: { logDriver: string; options: Record<string, string> };
  healthCheck?: { command: string[] };
}
interface TaskDefinition {
  requiresCompatibilities: string[];
  networkMode: string;
  runtimePlatform?: { cpuArchitecture?: string };
  containerDefinitions: ContainerDefinition[];
  volumes: {
    name: string;
    efsVolumeConfiguration?: {
      fileSystemId: string;
      transitEncryption?: string;
      authorizationConfig?: { accessPointId?: string };
    };
  }[];
}

const TEMPLATE_FILE = "infra/ecs/instance-task-definition.json";
const template = JSON.parse(read(TEMPLATE_FILE)) as TaskDefinition;
const CONTAINER = "instance";
const PORT = 8080;
const TENANT = "ten_0123456789abcdefghij";
/** Per tenant: never in the template, always from the runtime (DESIGN.md, instance config). */
const PER_TENANT = ["TENANT_ID", "PLAN", "MODEL_NAME", "DIMENSION", "MAX_DOCS"];
/** Schema keys the ECS deployment deliberately leaves unset, with the reason in infra/ecs/README.md. */
const DELIBERATELY_UNSET = [
  "CHROMA_URL",
  "REVOCATION_REFRESH_MS",
  // A pool's task gets POOL_ID instead of TENANT_ID from the runtime; its limits keep their defaults.
  "POOL_ID",
  "POOL_TENANT_CONCURRENCY",
  "POOL_TENANT_QUEUE",
  "POOL_TENANT_IDLE_MS",
  "POOL_MAX_LOADED_TENANTS",
  "POOL_CHROMA_INDEX_MEMORY_MB",
  "POOL_CHROMA_HNSW_CACHE",
  "ROW_CACHE_MB",
  "SEARCH_PHASES_FILE",
  "EMBED_BULK_NICENESS",
];

const container = template.containerDefinitions.find((definition) => definition.name === CONTAINER)!;
const templateEnv = Object.fromEntries(container.environment.map(({ name, value }) => [name, value]));
const templateNames = [...container.environment, ...(container.secrets ?? [])].map(({ name }) => name);
const schemaKeys: string[] = INSTANCE_ENV_VARS;
let overrides: Record<string, string>;
let overrideContainer: string | undefined;

/** What EcsRuntime really sends as container overrides when the reconciler starts a tenant. */
beforeAll(async () => {
  const client = new ECSClient({
    region: "eu-west-1",
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
  });
  const ecs = mockClient(client);
  ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: "arn:aws:ecs:eu-west-1:1:task/vdb/1" }] });
  const runtime = new EcsRuntime({
    client,
    cluster: "vdb",
    taskDefinition: "vdb-instance",
    containerName: CONTAINER,
    subnets: ["subnet-a"],
    securityGroups: ["sg-a"],
    port: PORT,
    launchType: "FARGATE",
  });
  await runtime.start({
    tenantId: TENANT,
    env: { TENANT_ID: TENANT, PLAN: "starter", MODEL_NAME: "use-lite", DIMENSION: "512", MAX_DOCS: "1000" },
  });
  const override = ecs.commandCalls(RunTaskCommand)[0]!.args[0].input.overrides!.containerOverrides![0]!;
  overrideContainer = override.name;
  overrides = Object.fromEntries(override.environment!.map(({ name, value }) => [name!, value!]));
  ecs.restore();
});

/** `${NAME}` in the template: filled in at deploy time (infra/ecs/README.md). */
const PLACEHOLDER = /\$\{([A-Z0-9_]+)\}/g;
const placeholder = (name: string) => `\${${name}}`;
/** Values an operator would fill in, for the placeholders inside `environment`. */
const SAMPLE_VALUES: Record<string, string> = {
  JWKS_URL: "https://vdb.example.com/.well-known/jwks.json",
  TOKEN_ISSUER: "https://vdb.example.com",
  OPENAI_BASE_URL: "",
};

function fillPlaceholder(_match: string, name: string): string {
  const value = SAMPLE_VALUES[name];
  if (value === undefined) throw new Error(`no sample value for the placeholder ${placeholder(name)}`);
  return value;
}

function isRequired(key: string): boolean {
  const field = InstanceConfigSchema.shape[key as keyof typeof InstanceConfigSchema.shape];
  return !field.safeParse(undefined).success;
}

describe("infra/ecs/instance-task-definition.json ↔ instance config ↔ EcsRuntime", () => {
  it("sets only variables the instance reads, in the template and in the runtime's overrides", () => {
    expect(templateNames.filter((name) => !schemaKeys.includes(name))).toEqual([]);
    expect(Object.keys(overrides).filter((name) => !schemaKeys.includes(name))).toEqual([]);
  });

  it("provides every required variable, and the result parses as an instance config", () => {
    const provided = new Set([...templateNames, ...Object.keys(overrides)]);
    const required = schemaKeys.filter(isRequired);
    expect(required).toContain("TOKEN_ISSUER"); // the check itself works
    expect(required.filter((key) => !provided.has(key))).toEqual([]);

    // Placeholders filled the way infra/ecs/README.md says, then the runtime's overrides on top.
    const filled = Object.fromEntries(
      Object.entries(templateEnv).map(([name, value]) => [name, value.replace(PLACEHOLDER, fillPlaceholder)]),
    );
    const config = InstanceConfigSchema.parse({ ...filled, ...overrides });
    expect(config).toMatchObject({ TENANT_ID: TENANT, PORT, HOST: "0.0.0.0", DATA_DIR: `/data/${TENANT}` });
  });

  it("leaves per-tenant variables to the runtime, and accounts for every variable of the schema", () => {
    expect(templateNames.filter((name) => PER_TENANT.includes(name))).toEqual([]);
    expect(PER_TENANT.filter((name) => !(name in overrides))).toEqual([]);
    const accounted = new Set([...templateNames, ...Object.keys(overrides), ...DELIBERATELY_UNSET]);
    // A new instance setting must be decided here: template, runtime, or deliberately unset.
    expect(schemaKeys.filter((key) => !accounted.has(key))).toEqual([]);
    const readme = read("infra/ecs/README.md");
    expect(schemaKeys.filter((key) => !readme.includes(`\`${key}\``))).toEqual([]);
  });

  it("names the container and port the EcsRuntime is configured with", () => {
    expect(template.containerDefinitions.map((definition) => definition.name)).toEqual([CONTAINER]);
    expect(overrideContainer).toBe(CONTAINER);
    expect(container.portMappings).toEqual([
      expect.objectContaining({ containerPort: PORT, protocol: "tcp" }),
    ]);
    expect(templateEnv.PORT).toBe(String(PORT));
    expect(overrides.PORT).toBe(String(PORT));
  });

  it("mounts the encrypted EFS volume at the template's DATA_DIR, under which the runtime puts each tenant", () => {
    const mount = container.mountPoints.find((point) => point.sourceVolume === "chroma-data");
    expect(mount?.containerPath).toBe(templateEnv.DATA_DIR);
    const volume = template.volumes.find((candidate) => candidate.name === "chroma-data");
    expect(volume?.efsVolumeConfiguration).toMatchObject({
      fileSystemId: placeholder("EFS_FILE_SYSTEM_ID"),
      transitEncryption: "ENABLED",
      authorizationConfig: { accessPointId: placeholder("EFS_ACCESS_POINT_ID") },
    });
    expect(overrides.DATA_DIR).toBe(`${mount!.containerPath}/${TENANT}`);
  });

  it("is a Fargate awsvpc task on x86_64 that logs to CloudWatch and health-checks /healthz", () => {
    expect(template.requiresCompatibilities).toEqual(["FARGATE"]);
    expect(template.networkMode).toBe("awsvpc");
    // The pinned Chroma binding (chromadb-js-bindings-linux-x64-gnu 1.0.5) is x86_64 only.
    expect(template.runtimePlatform?.cpuArchitecture).toBe("X86_64");
    expect(container.logConfiguration.logDriver).toBe("awslogs");
    expect(container.healthCheck?.command.join(" ")).toContain("/healthz");
  });

  it("documents every placeholder it contains", () => {
    const placeholders = [...read(TEMPLATE_FILE).matchAll(PLACEHOLDER)].map((match) => match[1]!);
    expect(placeholders.length).toBeGreaterThan(5);
    const readme = read("infra/ecs/README.md");
    expect([...new Set(placeholders)].filter((name) => !readme.includes(placeholder(name)))).toEqual([]);
  });
});

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(file: string): { op: string; args: string }[] {
  return read(file)
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [op = "", ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

/** The instructions of the last stage: what the image runs with. */
function finalStage(file: string) {
  const all = instructions(file);
  const lastFrom = all.map((instruction) => instruction.op).lastIndexOf("FROM");
  return all.slice(lastFrom);
}

describe("infra/docker", () => {
  const pnpm = (JSON.parse(read("package.json")) as { packageManager: string }).packageManager;
  const images = [
    { file: "infra/docker/instance.Dockerfile", ports: container.portMappings.map((p) => p.containerPort) },
    { file: "infra/docker/control-plane.Dockerfile", ports: [ConfigSchema.shape.PORT.parse(undefined)] },
  ];

  for (const { file, ports } of images) {
    it(`${file}: multi-stage, pinned pnpm, frozen lockfile, non-root, health-checked, exposes ${ports.join(", ")}`, () => {
      expect(existsSync(`${ROOT}${file}`)).toBe(true);
      expect(existsSync(`${ROOT}${file}.dockerignore`)).toBe(true);
      const all = instructions(file);
      expect(all.filter((instruction) => instruction.op === "FROM").length).toBeGreaterThanOrEqual(2);
      // Debian packages (apt-get) aside: every install of the project's dependencies is pnpm's, frozen.
      const installs = all
        .filter((i) => i.op === "RUN" && / install /.test(i.args) && !i.args.startsWith("apt-get"))
        .map((i) => i.args);
      expect(installs.length).toBeGreaterThan(0);
      for (const install of installs) {
        expect(install).toContain(`npx -y ${pnpm} install --frozen-lockfile`);
      }

      const final = finalStage(file);
      const exposed = final.filter((i) => i.op === "EXPOSE").flatMap((i) => i.args.split(/\s+/));
      expect(exposed.map((port) => Number(port.replace(/\/tcp$/, "")))).toEqual(ports);
      const env = final.filter((i) => i.op === "ENV").map((i) => i.args);
      expect(env.join(" ")).toContain(`PORT=${ports[0]}`);
      const user = final.filter((i) => i.op === "USER").at(-1)?.args;
      expect(user).toBeDefined();
      expect(["root", "0", "0:0"]).not.toContain(user);
      expect(final.some((i) => i.op === "HEALTHCHECK" && /\/healthz?'/.test(i.args))).toBe(true);
    });
  }

  it("bases images on Debian 12 only with the glibc-2.36 Chroma binding pinned", () => {
    for (const { file } of images) {
      expect(read(file)).toContain("ARG NODE_IMAGE=node:20-bookworm-slim");
    }
    expect(read("pnpm-workspace.yaml")).toMatch(/chromadb-js-bindings-linux-x64-gnu: 1\.0\.5/);
  });

  it("infra/compose.yaml builds the control plane from its Dockerfile and publishes its port", () => {
    const compose = read("infra/compose.yaml");
    expect(compose).toContain("dockerfile: infra/docker/control-plane.Dockerfile");
    expect(compose).toContain(`"${ConfigSchema.shape.PORT.parse(undefined)}:8787"`);
    expect(compose).toContain("image: postgres:15");
  });
});
