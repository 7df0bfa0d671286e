export * from './pool-pinned-chart';
export * from './web-backend-chart';
export * from './web-preview-chart';
export * from './workload-charts';
export * from './workload-defaults';
