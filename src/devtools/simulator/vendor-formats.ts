import { acmeFormat } from './vendor-acme.ts';
import { flatlineFormat } from './vendor-flatline.ts';
import type { VendorFormat } from './vendor-format.ts';

/**
 * The wire formats the simulator speaks, by vendor name (FleetDevice.vendor, device-models.ts). A new
 * vendor is one vendor-<name>.ts file, its models in device-models.ts and one line here.
 */
export const vendorFormats: Readonly<Record<string, VendorFormat>> = {
  acme: acmeFormat,
  flatline: flatlineFormat,
};
