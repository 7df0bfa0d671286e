export * from './ask-host';
export * from './checks';
export * from './host-report';
export * from './planned-objects';
