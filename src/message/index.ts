export { MessageService, type MessageServiceOptions, type MessageTurn } from './service.ts';
