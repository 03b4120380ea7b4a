.class public Lorg/example/smsbackup/MainActivity;
.super Landroid/app/Activity;
.source "MainActivity.java"

# Test fixture for fraudwall's APK analysis: benign backup app with alarming permissions.

.field public static final PROJECT_URL:Ljava/lang/String; = "https://github.com/example/smsbackup"

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/app/Activity;-><init>()V
    return-void
.end method

.method public static ui()[Ljava/lang/String;
    .registers 4
    const/16 v0, 0x3
    new-array v0, v0, [Ljava/lang/String;
    const/16 v1, 0x0
    const-string v2, "Back up messages to local storage"
    aput-object v2, v0, v1
    const/16 v1, 0x1
    const-string v2, "Restore"
    aput-object v2, v0, v1
    const/16 v1, 0x2
    const-string v2, "sms_backup.xml"
    aput-object v2, v0, v1
    return-object v0
.end method
