import { TerraformResource } from 'cdktf';

/**
 * A lifecycle `replace_triggered_by` list naming `resources`: the resource is replaced whenever one of them is.
 * Written as bare references (`libvirt_volume.Name`): Terraform's JSON syntax takes no `${…}` there, which cdktf
 * renders for the objects themselves (`terraform validate` refuses it).
 */
export function replacedWith(...resources: readonly TerraformResource[]): string[] {
  return resources.map((r) => `${r.terraformResourceType}.${r.friendlyUniqueId}`);
}
