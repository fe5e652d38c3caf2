package base;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reading a user's files as root, treating them as hostile: the file must be a regular file
 * (not a symlink, FIFO or device) owned by that user, inside the directory we expect, and we
 * read at most a bounded prefix of it.
 */
public final class UserFiles {
    private static final Duration READ_DEADLINE = Duration.ofSeconds(2);
    /** Daemon threads: one stuck on a FIFO never keeps the JVM from exiting. */
    private static final ExecutorService READER = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "t3-user-file-reader");
        t.setDaemon(true);
        return t;
    });

    private UserFiles() {}

    /** The directory's real path, when it is a directory the user owns; else empty (not trusted). */
    public static Optional<Path> trustedDir(Path dir, int uid) {
        try {
            Path real = dir.toRealPath();
            PosixFileAttributes a = Files.readAttributes(real, PosixFileAttributes.class);
            if (!a.isDirectory() || owner(real) != uid) return Optional.empty();
            return Optional.of(real);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Up to {@code maxBytes} of {@code file} as UTF-8, only when it is a regular file owned by
     * {@code uid} at a path inside {@code within} (a trusted real directory) with no symlink in it.
     *
     * <p>The checks (one lstat: type, owner, inode) and the read cannot be told apart by swapping
     * a directory in between: the read walks from {@code /} one directory at a time, each opened
     * relative to the last with O_NOFOLLOW ({@link SecureDirectoryStream}, Java's openat), and
     * takes the file only when the inode found there is the one that was checked. A symlink
     * anywhere on the path fails the walk; nothing outside {@code within} is ever opened.
     */
    public static Optional<String> readPrefix(Path file, int uid, Path within, int maxBytes) {
        return checked(file, uid, within, Long.MAX_VALUE).flatMap(key -> readBounded(file, key, maxBytes));
    }

    /**
     * Copies {@code file} to {@code target} (root's, made here) when it is the user's as
     * {@link #readPrefix} checks it and at most {@code maxBytes} long; false otherwise (too big,
     * not hers, swapped, or not read within {@link #COPY_DEADLINE}). Meant for a file root must
     * open with a library that would follow links or write beside it (a database).
     */
    public static boolean copyBounded(Path file, int uid, Path within, long maxBytes, Path target) {
        Optional<Object> key = checked(file, uid, within, maxBytes);
        if (key.isEmpty()) return false;
        return withFile(file, key.get(), COPY_DEADLINE, in -> {
            try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                byte[] buf = new byte[1 << 16];
                long copied = 0;
                for (int n; (n = in.read(buf)) > 0; ) {
                    if ((copied += n) > maxBytes) return null; // grew past the bound while read
                    out.write(buf, 0, n);
                }
                return Boolean.TRUE;
            }
        }).orElse(false);
    }

    /** A file may be copied for this long: a large one off a slow disk, not a FIFO that never answers. */
    static final java.time.Duration COPY_DEADLINE = java.time.Duration.ofSeconds(20);

    /** The file's inode key when it is a regular file of {@code uid} at a normal path inside {@code within}, at most {@code maxBytes} long. */
    private static Optional<Object> checked(Path file, int uid, Path within, long maxBytes) {
        try {
            if (!file.isAbsolute() || !file.equals(file.normalize()) || !file.startsWith(within) || file.equals(within)) return Optional.empty();
            Map<String, Object> a = Files.readAttributes(file, "unix:uid,fileKey,isRegularFile,size", LinkOption.NOFOLLOW_LINKS);
            if (!Boolean.TRUE.equals(a.get("isRegularFile")) || !Integer.valueOf(uid).equals(a.get("uid")) || a.get("fileKey") == null) return Optional.empty();
            if (((Number) a.get("size")).longValue() > maxBytes) return Optional.empty();
            return Optional.of(a.get("fileKey"));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Reads {@code file} (absolute) through a walk that follows no symlink, in a thread of its
     * own with a deadline: a FIFO swapped in (for the file or for a directory on the way) would
     * block open(2) forever, and one user must not hang everyone's save. With {@code expected}
     * (a {@link BasicFileAttributes#fileKey}), only that very inode is read.
     */
    public static Optional<String> readBounded(Path file, Object expected, int maxBytes) {
        return withFile(file, expected, READ_DEADLINE, in -> new String(in.readNBytes(maxBytes), StandardCharsets.UTF_8));
    }

    /** What is read from a file by {@code read}; null from it: nothing. */
    private interface Reading<T> {
        T from(InputStream in) throws IOException;
    }

    /** {@code read} of {@code file}, opened through the walk that follows no symlink (see {@link #readBounded}), within {@code deadline}. */
    private static <T> Optional<T> withFile(Path file, Object expected, java.time.Duration deadline, Reading<T> reading) {
        Future<T> read = READER.submit(() -> {
            Path name = file.getFileName();
            try (SecureDirectoryStream<Path> dir = openDirNoFollow(file.getParent())) {
                BasicFileAttributeView view = dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
                if (expected != null && !sameRegularFile(view, expected)) return null;
                T value;
                try (SeekableByteChannel ch = dir.newByteChannel(name, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS));
                     InputStream in = Channels.newInputStream(ch)) {
                    value = reading.from(in);
                }
                // Swapped within the (fixed, real) directory between the look and the open? Then not ours to believe.
                if (expected != null && !sameRegularFile(view, expected)) return null;
                return value;
            }
        });
        return within(read, deadline, file);
    }

    /** What {@code work} (on {@code file}) gives within {@code deadline}; empty when it failed or took longer (said: a FIFO?). */
    private static <T> Optional<T> within(Future<T> work, java.time.Duration deadline, Path file) {
        try {
            return Optional.ofNullable(work.get(deadline.toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            work.cancel(true);
            Log.warn("reading %s took over %d ms (a FIFO?); ignored", file, deadline.toMillis());
            return Optional.empty();
        } catch (ExecutionException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static boolean sameRegularFile(BasicFileAttributeView view, Object expected) throws IOException {
        BasicFileAttributes now = view.readAttributes();
        return now.isRegularFile() && expected.equals(now.fileKey());
    }

    /**
     * The directory {@code dir} (absolute), opened from {@code /} one name at a time, each relative
     * to the one before and never through a symlink (openat with O_NOFOLLOW).
     */
    public static SecureDirectoryStream<Path> openDirNoFollow(Path dir) throws IOException {
        DirectoryStream<Path> top = Files.newDirectoryStream(dir.getRoot());
        if (!(top instanceof SecureDirectoryStream<Path> cur)) {
            top.close();
            throw new IOException("this platform cannot open a directory relative to another (no SecureDirectoryStream)");
        }
        try {
            for (Path name : dir) {
                SecureDirectoryStream<Path> next = cur.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
                cur.close();
                cur = next;
            }
            return cur;
        } catch (IOException | RuntimeException e) {
            cur.close();
            throw e;
        }
    }

    /**
     * The file key (inode) of what lies at {@code file} (absolute) when the path is walked from /
     * one directory at a time, never through a symlink; empty when the walk fails. Within
     * {@link #READ_DEADLINE}: a directory on the way may be a FIFO swapped in.
     */
    public static Optional<Object> keyAt(Path file) {
        Future<Object> look = READER.submit(() -> {
            try (SecureDirectoryStream<Path> dir = openDirNoFollow(file.getParent())) {
                return dir.getFileAttributeView(file.getFileName(), BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).readAttributes().fileKey();
            }
        });
        return within(look, READ_DEADLINE, file);
    }

    /** Whether {@code file} is a regular file (no symlink) owned by {@code uid}. */
    public static boolean isOwnedRegularFile(Path file, int uid) {
        try {
            return Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && owner(file) == uid;
        } catch (IOException e) {
            return false;
        }
    }

    /** When the file was last written (its mtime, not following a symlink); the epoch when it cannot be read. */
    public static java.time.Instant modified(Path file) {
        try {
            return Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS).toInstant();
        } catch (IOException e) {
            return java.time.Instant.EPOCH;
        }
    }

    static int owner(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }
}
