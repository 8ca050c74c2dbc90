/** Whether `npm start` (this script) would build any of the packages in `dirs`, e.g. `apps/instance`, if run now. */
export declare function wouldBuild(...dirs: string[]): boolean;
