/** Name and version written into every model bundle (kept equal to package.json by a test). */
export const LIBRARY_NAME = 'netflow-anomaly-notebooks';
export const LIBRARY_VERSION = '0.1.0';
