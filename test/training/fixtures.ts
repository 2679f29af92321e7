/** Small self-written training data shared by the training tests. */
import type { TrainingData } from '../../src/training/index.ts';

export const bankingData: TrainingData = {
  language: 'en',
  intents: [
    { intent: 'check_balance', examples: [
      'what is my account balance', 'how much money do I have', 'show my balance', 'check my balance please',
      'how much is left in my checking account', 'tell me my current balance', 'balance of my savings account',
    ].map((text) => ({ text })) },
    { intent: 'transfer_money', examples: [
      'transfer 50 dollars to my savings', 'send money to John', 'move money between my accounts', 'I want to make a transfer',
      'wire 200 to my brother', 'pay my friend 20 dollars', 'send cash to my mom',
    ].map((text) => ({ text })) },
    { intent: 'lost_card', examples: [
      'I lost my credit card', 'my card was stolen', 'block my debit card', 'I cannot find my card',
      'report a stolen card', 'freeze my card it is missing', 'someone took my wallet with my card',
    ].map((text) => ({ text })) },
    { intent: 'opening_hours', examples: [
      'when does the branch open', 'what are your opening hours', 'is the bank open on saturday', 'what time do you close',
      'branch hours today', 'are you open on sunday', 'until what time is the office open',
    ].map((text) => ({ text })) },
  ],
};

/** Held-out phrasings the model never saw, with the intent each should get. */
export const bankingHeldOut: Array<[string, string]> = [
  ['how much do I have in my savings account', 'check_balance'],
  ['show me the balance', 'check_balance'],
  ['send 30 dollars to my sister', 'transfer_money'],
  ['make a transfer to John', 'transfer_money'],
  ['my credit card is missing', 'lost_card'],
  ['please block my stolen card', 'lost_card'],
  ['what time does the branch close', 'opening_hours'],
  ['is the office open today', 'opening_hours'],
];

export const portugueseData: TrainingData = {
  language: 'pt-br',
  intents: [
    { intent: 'saudacao', examples: ['Olá, bom dia', 'Oi, tudo bem?', 'Boa tarde!', 'Olá, como você está?', 'E aí, beleza?'].map((text) => ({ text })) },
    { intent: 'cancelamento', examples: ['Quero cancelar minha assinatura', 'Como faço o cancelamento do plano?', 'Cancelar o serviço', 'Não quero mais o plano, cancele', 'Desejo encerrar minha conta'].map((text) => ({ text })) },
    { intent: 'preco', examples: ['Quanto custa o plano?', 'Qual é o preço?', 'Valor da mensalidade', 'Quais são os preços dos planos?', 'Está caro, qual o valor?'].map((text) => ({ text })) },
  ],
};
