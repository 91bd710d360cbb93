/** Files listed by path (a job's snapshot, an output folder) as the folders they are in. */

export interface ListedFile {
  path: string;
  bytes: number;
}

export interface TreeFolder {
  name: string;
  folders: TreeFolder[];
  files: (ListedFile & { name: string })[];
}

/** The tree of `files` ("a/b/c.txt" is c.txt in folder b in folder a), folders before files, each by name. */
export function fileTree(files: ListedFile[]): TreeFolder {
  const root: TreeFolder = { name: "", folders: [], files: [] };
  for (const file of files) {
    const parts = file.path.split("/");
    let folder = root;
    for (const part of parts.slice(0, -1)) {
      let next = folder.folders.find((f) => f.name === part);
      if (!next) {
        next = { name: part, folders: [], files: [] };
        folder.folders.push(next);
      }
      folder = next;
    }
    folder.files.push({ ...file, name: parts[parts.length - 1] });
  }
  const order = (folder: TreeFolder) => {
    folder.folders.sort((a, b) => a.name.localeCompare(b.name));
    folder.files.sort((a, b) => a.name.localeCompare(b.name));
    folder.folders.forEach(order);
  };
  order(root);
  return root;
}

/** A size as people read it: 532 bytes, 12.3 kB, 4.5 MB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}
