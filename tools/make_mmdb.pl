#!/usr/bin/perl
# Writes a small MaxMind-format country database: make_mmdb.pl OUT
# CIDR=CC [CIDR=CC ...]. `kizuki demo` makes its world's geo.mmdb with it
# (a country per operator), and the dashboard's browser test its own.
# Uses Debian's libmaxmind-db-writer-perl; the ranges it is given
# (198.18.0.0/15, TEST-NETs, 2001:db8::/32) are reserved, so reserved
# networks are allowed in explicitly.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($out, @pairs) = @ARGV;
die "usage: make_mmdb.pl OUT CIDR=CC...\n" unless $out && @pairs;
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version            => 6,
    record_size           => 24,
    database_type         => 'kizuki-test-country',
    languages             => ['en'],
    description           => { en => 'kizuki demo and tests' },
    remove_reserved_networks => 0,
    map_key_type_callback => sub {
        my $k = shift;
        return { country => 'map', iso_code => 'utf8_string', names => 'map', en => 'utf8_string' }->{$k};
    },
);
for my $p (@pairs) {
    my ($cidr, $cc) = split /=/, $p, 2;
    $tree->insert_network($cidr, { country => { iso_code => $cc, names => { en => $cc } } });
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
