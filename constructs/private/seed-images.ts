import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ISynthesisSession, TerraformStack } from 'cdktf';
// The hook TerraformAsset copies its file with; not re-exported from cdktf's index. cdktf 0.21.0 is its
// final release (pinned), so this path cannot move under us.
import { addCustomSynthesis } from 'cdktf/lib/synthesize/synthesizer';
import { Construct, IConstruct } from 'constructs';

/** The files of one NoCloud seed: file name (e.g. `user-data`) => exact content. */
export type SeedFiles = Readonly<Record<string, string>>;

/** The volume label cloud-init's NoCloud data source looks for on every block device. */
export const SEED_VOLUME_LABEL = 'cidata';

/** Where, inside a stack's synth output folder, the seed images are written; `source` paths are relative to it. */
export const SEED_DIR = 'seeds';

/** The tool that writes the images (Debian package `xorriso`; `npm run tools` installs it). */
export const SEED_TOOL = 'xorriso';

/**
 * Every timestamp inside an image (volume dates, file dates, the volume UUID): a constant, so the same
 * files give the same bytes. 1980-01-01T00:00:00Z, the earliest date every filesystem involved can hold.
 */
export const SEED_EPOCH_SECONDS = 315_532_800;

/**
 * The image format and how it is written, part of every seed's name hash: a change here renames (and so
 * replaces) every seed on purpose, rather than changing a volume's content under an unchanged name.
 */
const SEED_FORMAT = 'iso9660+joliet+rockridge(rationalized) label=cidata xorriso-mkisofs v1';

/** How many hex digits of the content hash a seed's name carries. */
const NAME_HASH_LENGTH = 12;

/** A file name a seed may hold: what NoCloud reads (`user-data`, `meta-data`, `network-config`, `vendor-data`). */
const SEED_FILE_NAMES = new Set(['user-data', 'meta-data', 'network-config', 'vendor-data']);

/**
 * The short content hash a seed's volume name carries: SHA-256 over the image format and each file's name,
 * length and bytes, in name order. It depends on what the guest reads, not on the tool's version, so a newer
 * xorriso writing other bytes does not rename (and replace) a VM; changed user-data always does.
 */
export function seedContentHash(files: SeedFiles): string {
  const hash = createHash('sha256').update(`${SEED_FORMAT}\n`);
  for (const name of Object.keys(files).sort()) {
    const bytes = Buffer.from(files[name], 'utf8');
    hash.update(`${name}\n${bytes.length}\n`).update(bytes);
  }
  return hash.digest('hex').slice(0, NAME_HASH_LENGTH);
}

/** Throws, naming the file, unless every file name is one NoCloud reads and `user-data` and `meta-data` are there. */
export function validateSeedFiles(owner: string, files: SeedFiles): void {
  const names = Object.keys(files);
  const unknown = names.filter((n) => !SEED_FILE_NAMES.has(n));
  if (unknown.length > 0) {
    throw new Error(`${owner}: seed file ${JSON.stringify(unknown[0])} is not one NoCloud reads; allowed: ${[...SEED_FILE_NAMES].join(', ')}`);
  }
  for (const required of ['user-data', 'meta-data']) {
    if (!names.includes(required)) throw new Error(`${owner}: a NoCloud seed needs ${required}; got only ${names.join(', ') || 'no files'}`);
  }
}

/** One image to write: its file name under SEED_DIR and the files it holds. */
export interface SeedImageRequest {
  readonly fileName: string;
  readonly files: SeedFiles;
}

/**
 * The stack's NoCloud seed images. Constructs register an image here (pure: no tool runs while the tree is
 * built, so `Testing.synth` needs none); when the stack is synthesized, every image is written with xorriso
 * into `<stack output>/seeds/`, all at once, beside `cdk.tf.json`. Terraform runs in that folder, so a volume's
 * relative `source` finds its image wherever `cdktf.out` is deployed from.
 */
export class SeedImages extends Construct {
  /** The stack's one SeedImages, made on first use. */
  static of(scope: IConstruct): SeedImages {
    const stack = TerraformStack.of(scope);
    return (stack.node.tryFindChild(SEED_IMAGES_ID) as SeedImages | undefined) ?? new SeedImages(stack, SEED_IMAGES_ID);
  }

  private readonly requests = new Map<string, SeedImageRequest>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    addCustomSynthesis(this, {
      onSynthesize: (session: ISynthesisSession) => {
        const stackDir = path.join(session.outdir, path.dirname(session.manifest.forStack(TerraformStack.of(this)).synthesizedStackPath));
        writeSeedImages([...this.requests.values()], path.join(stackDir, SEED_DIR));
      },
    });
  }

  /** Every image registered so far, by file name. */
  get images(): ReadonlyMap<string, SeedImageRequest> {
    return this.requests;
  }

  /** Registers an image; returns its `source` path, relative to the stack's output folder. */
  add(request: SeedImageRequest): string {
    const known = this.requests.get(request.fileName);
    if (known !== undefined && seedContentHash(known.files) !== seedContentHash(request.files)) {
      throw new Error(`two different seed images are named ${request.fileName}`);
    }
    this.requests.set(request.fileName, request);
    return path.posix.join(SEED_DIR, request.fileName);
  }
}

const SEED_IMAGES_ID = 'SeedImages';

/** Throws a clear error unless xorriso runs (synth writes every seed with it). */
export function requireSeedTool(): void {
  const probe = spawnSync(SEED_TOOL, ['-version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `${SEED_TOOL} is needed to write each node's NoCloud seed image at synth, and ${probe.error ? `could not be run (${probe.error.message})` : `exited ${probe.status}`}; install the Debian package xorriso (npm run tools does)`,
    );
  }
}

/**
 * Writes each requested image into `dir`, as ISO 9660 with Joliet and Rock Ridge, volume label `cidata`, holding
 * exactly the request's files; anything else in `dir` goes (images of removed nodes), once the new images are
 * written. Reproducible: the same files give the same bytes (SOURCE_DATE_EPOCH and every file date fixed, Rock
 * Ridge owners and modes rationalized, no host names or paths inside). xorriso spends ~0.1 s idle per run, so the
 * images are written in parallel, and only those not already there: an image whose name carries its files' content hash (`…-<seedContentHash>.iso`, as
 * NodeVm names them) and that `dir` already holds is kept, since that name can only have been written from those
 * files. Each image is written whole or not at all (renamed into place), so a kept one is never a torn write.
 */
export function writeSeedImages(requests: readonly SeedImageRequest[], dir: string): void {
  for (const request of requests) validateSeedFiles(request.fileName, request.files);
  // The images hold the bootstrap secrets (the user-data does): owner only, like .secrets/ and rendered/.
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const kept = new Set(requests.filter((r) => carriesItsHash(r) && isWholeImage(path.join(dir, r.fileName))).map((r) => r.fileName));
  for (const name of kept) fs.chmodSync(path.join(dir, name), 0o600);
  writeImages(requests.filter((r) => !kept.has(r.fileName)), dir);
  // Only now, with every image in place, the rest goes: a failed write leaves the folder as the last synth left
  // it, which the stack JSON of that synth still names.
  const current = new Set(requests.map((r) => r.fileName));
  for (const entry of fs.readdirSync(dir)) if (!current.has(entry)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
}

/** Writes `toWrite` into `dir` with xorriso, all at once, each image renamed into place whole. */
function writeImages(toWrite: readonly SeedImageRequest[], dir: string): void {
  if (toWrite.length === 0) return;
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-seeds-'));
  try {
    const jobs: string[] = [];
    for (const [i, request] of toWrite.entries()) {
      const job = path.join(staging, String(i));
      const content = path.join(job, 'files');
      fs.mkdirSync(content, { recursive: true });
      for (const name of Object.keys(request.files).sort()) {
        const file = path.join(content, name);
        fs.writeFileSync(file, request.files[name], { mode: 0o600 });
        fs.utimesSync(file, SEED_EPOCH_SECONDS, SEED_EPOCH_SECONDS);
      }
      jobs.push(job);
    }
    const date = new Date(SEED_EPOCH_SECONDS * 1000).toISOString().replace(/\D/g, '').slice(0, 14) + '00';
    // One xorriso per image, all at once (xargs -P 0); each argument is a job folder, never spliced into a shell.
    const run = spawnSync(
      'xargs',
      ['-0', '-P', '0', '-I', '{}', SEED_TOOL, '-as', 'mkisofs', '-quiet', '-o', '{}/seed.iso', '-V', SEED_VOLUME_LABEL, '-J', '-r',
        '-p', 'k8s-lab', '--set_all_file_dates', date, `--modification-date=${date}`, '{}/files'],
      { input: jobs.map((j) => `${j}\0`).join(''), encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: String(SEED_EPOCH_SECONDS) } },
    );
    if (run.error !== undefined || run.status !== 0) {
      requireSeedTool();
      throw new Error(`writing the NoCloud seed images with ${SEED_TOOL} failed (exit ${run.status}): ${run.error?.message ?? run.stderr.trim()}`);
    }
    for (const [i, request] of toWrite.entries()) {
      const image = path.join(dir, request.fileName);
      const partial = path.join(dir, `.${request.fileName}.partial`);
      try {
        fs.copyFileSync(path.join(jobs[i], 'seed.iso'), partial);
        fs.chmodSync(partial, 0o600);
        fs.renameSync(partial, image);
      } catch (e) {
        fs.rmSync(partial, { force: true });
        throw e;
      }
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Whether the request's file name ends with the content hash of its files, as NodeVm names seeds. */
function carriesItsHash(request: SeedImageRequest): boolean {
  return request.fileName.endsWith(`-${seedContentHash(request.files)}.iso`);
}

/** ISO 9660's primary volume descriptor sits in sector 16: type 1, then "CD001". */
const ISO_PVD_OFFSET = 16 * 2048;

/** Whether `file` is a regular file that starts like a whole ISO 9660 image (a cheap check; no tool runs). */
function isWholeImage(file: string): boolean {
  let fd: number | undefined;
  try {
    const stat = fs.lstatSync(file);
    if (!stat.isFile() || stat.size < ISO_PVD_OFFSET + 2048 || stat.size % 2048 !== 0) return false;
    fd = fs.openSync(file, 'r');
    const magic = Buffer.alloc(6);
    fs.readSync(fd, magic, 0, 6, ISO_PVD_OFFSET);
    return magic.equals(Buffer.from('\x01CD001', 'latin1'));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
