/** Whether `npm start` (this script) would build the package in `dir`, e.g. `apps/instance`, if run now. */
export declare function wouldBuild(dir: string): boolean;
