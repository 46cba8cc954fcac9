package herd.lincheck;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The set of operations linearized so far, as bits: answered operations are 0..determinateCount-1 in
 * invocation order, indeterminate ones follow.
 *
 * <p>Memo keys for the answered part are kept short: answered operations get linearized roughly in order, so the leading
 * words of their bits are soon all ones and a key stores only how many such words there are. The
 * unused bits of the last answered word are set from the start so that word can count as full too.
 */
final class LinearizedSet {

    /**
     * The pairs (linearized set, register state) the search has reached. Pairs with equal answered
     * ops and state are grouped; a new pair is dominated (and skipped) when its indeterminate ops are
     * a superset of a recorded one's: the recorded pair could still do all the new one can.
     */
    static final class Memo {
        private final Map<Key, List<long[]>> indeterminateSetsByKey = new HashMap<>();

        /** Records the set plus {@code operation} in {@code state}; false if it is dominated. */
        boolean addIfNotDominated(LinearizedSet set, int operation, long state) {
            set.set(operation);
            Key key = set.key(state);
            long[] indeterminate = set.indeterminateSnapshot();
            set.clear(operation);
            List<long[]> recorded = indeterminateSetsByKey.computeIfAbsent(key, k -> new ArrayList<>(1));
            for (long[] earlier : recorded) {
                if (isSubset(earlier, indeterminate)) {
                    return false;
                }
            }
            recorded.add(indeterminate);
            return true;
        }

        private static boolean isSubset(long[] small, long[] large) {
            if (small.length > large.length) {
                return false;
            }
            for (int i = 0; i < small.length; i++) {
                if ((small[i] & ~large[i]) != 0) {
                    return false;
                }
            }
            return true;
        }
    }

    /** The answered part of a linearized set plus the register state. */
    static final class Key {
        private final long[] words;
        private final int hash;

        private Key(long[] words) {
            this.words = words;
            this.hash = Arrays.hashCode(words);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Key key && key.hash == hash && Arrays.equals(key.words, words);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private final int determinateCount;
    private final long[] determinateWords;
    private final long[] indeterminateWords;
    /** No word before this one is anything but full. */
    private int fullWordsHint;

    LinearizedSet(int determinateCount, int operationCount) {
        this.determinateCount = determinateCount;
        this.determinateWords = new long[wordsFor(determinateCount)];
        this.indeterminateWords = new long[wordsFor(operationCount - determinateCount)];
        int usedBitsInLastWord = determinateCount % 64;
        if (usedBitsInLastWord != 0) {
            determinateWords[determinateWords.length - 1] = -1L << usedBitsInLastWord;
        }
    }

    void set(int operation) {
        if (operation < determinateCount) {
            determinateWords[operation >>> 6] |= 1L << operation;
        } else {
            int bit = operation - determinateCount;
            indeterminateWords[bit >>> 6] |= 1L << bit;
        }
    }

    boolean contains(int operation) {
        if (operation < determinateCount) {
            return (determinateWords[operation >>> 6] & (1L << operation)) != 0;
        }
        int bit = operation - determinateCount;
        return (indeterminateWords[bit >>> 6] & (1L << bit)) != 0;
    }

    void clear(int operation) {
        if (operation < determinateCount) {
            determinateWords[operation >>> 6] &= ~(1L << operation);
            fullWordsHint = Math.min(fullWordsHint, operation >>> 6);
        } else {
            int bit = operation - determinateCount;
            indeterminateWords[bit >>> 6] &= ~(1L << bit);
        }
    }

    /** The indeterminate ops linearized, without trailing zero words. */
    long[] indeterminateSnapshot() {
        return Arrays.copyOf(indeterminateWords, lastNonZero(indeterminateWords, 0));
    }

    private Key key(long state) {
        while (fullWordsHint < determinateWords.length && determinateWords[fullWordsHint] == -1L) {
            fullWordsHint++;
        }
        int fullWords = fullWordsHint;
        int determinateLength = lastNonZero(determinateWords, fullWords) - fullWords;
        long[] words = new long[2 + determinateLength];
        words[0] = state;
        words[1] = fullWords;
        System.arraycopy(determinateWords, fullWords, words, 2, determinateLength);
        return new Key(words);
    }

    /** One past the last non-zero word at or after {@code from}, or {@code from} if none. */
    private static int lastNonZero(long[] words, int from) {
        int end = words.length;
        while (end > from && words[end - 1] == 0) {
            end--;
        }
        return end;
    }

    private static int wordsFor(int bits) {
        return (bits + 63) / 64;
    }
}
