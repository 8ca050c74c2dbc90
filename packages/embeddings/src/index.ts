// Skeleton: embedding providers arrive with the instances issue (see DESIGN.md, "Embeddings").
export {};
