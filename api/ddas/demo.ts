/** What `npm start` prints for the DDAS interface; makes the demo signing pair on first start. */
import type { Config } from '../../lib/config.js';
import { ddasSigningMaterial } from './routes.js';

/** Lines for the start banner: the endpoint, how to get a token, the signing certificate's thumbprint. */
export function ddasDemoLines(config: Config): string[] {
  const base = `http://${config.HTTP_HOST}:${config.HTTP_PORT}${config.DDAS_MOUNT_PATH}`;
  const material = ddasSigningMaterial(config);
  const lines = [`  DDAS (CBS)        POST ${base}/gegevens  (signing certificate kid ${material.kid})`];
  if (!config.DDAS_OAUTH_JWKS_URL) {
    lines.push(
      `  DDAS demo token   POST ${base}/oauth/token  grant_type=client_credentials, client ${config.DDAS_CLIENT_ID}` +
        (config.DDAS_CLIENT_SECRET === 'development-only-ddas-client-secret'
          ? ' / development-only-ddas-client-secret'
          : ''),
    );
  }
  return lines;
}
