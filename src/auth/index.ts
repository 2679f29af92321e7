export {
  DATA_KEY, EncryptionKey, fingerprintOf, formatSecretYaml, isDirectory, parseSecretYaml, readGivenSecretFile, readSecretFile, SECRET_FILE_NAME, SECRET_NAME,
} from './encryption-key.ts';
export { encryptWebhooks, decryptWebhooks } from './webhooks.ts';
export {
  createInstance, deleteInstance, listInstances, createToken, listTokens, tokenIdOf, revokeToken, revokeUserTokens, authenticate, authorize, instanceCrn, hashToken, UUID,
  type DeletedInstance, type Instance, type TokenInfo, type TokenListing,
} from './tenants.ts';
