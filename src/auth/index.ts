export {
  DATA_KEY, EncryptionKey, fingerprintOf, formatSecretYaml, isDirectory, parseSecretYaml, readGivenSecretFile, readSecretFile, SECRET_FILE_NAME, SECRET_NAME,
} from './encryption-key.ts';
export { encryptWebhooks, decryptWebhooks } from './webhooks.ts';
export {
  createInstance, listInstances, createToken, listTokens, tokenIdOf, revokeToken, authenticate, authorize, instanceCrn, hashToken, UUID,
  type Instance, type TokenInfo, type TokenListing,
} from './tenants.ts';
