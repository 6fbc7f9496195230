/** Data files imported `with { type: "file" }`: the import is the file's path (in $bunfs inside a compiled executable). */
declare module "*.bpe" {
  const path: string;
  export default path;
}
