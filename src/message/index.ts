export { MessageService, type MessageServiceOptions } from './service.ts';
