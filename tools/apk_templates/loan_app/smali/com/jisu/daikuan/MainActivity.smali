.class public Lcom/jisu/daikuan/MainActivity;
.super Landroid/app/Activity;
.source "MainActivity.java"

# Test fixture for fraudwall's APK analysis: predatory loan app that uploads the address book.

.field public static final API_CONTACTS:Ljava/lang/String; = "https://api.jisudai.xyz/v1/contacts/upload"
.field public static final HOTLINE:Ljava/lang/String; = "+86 138 0013 8000"

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/app/Activity;-><init>()V
    return-void
.end method

.method public static uiText()[Ljava/lang/String;
    .registers 4
    const/16 v0, 0x7
    new-array v0, v0, [Ljava/lang/String;
    const/16 v1, 0x0
    const-string v2, "借款"
    aput-object v2, v0, v1
    const/16 v1, 0x1
    const-string v2, "放款"
    aput-object v2, v0, v1
    const/16 v1, 0x2
    const-string v2, "额度"
    aput-object v2, v0, v1
    const/16 v1, 0x3
    const-string v2, "逾期"
    aput-object v2, v0, v1
    const/16 v1, 0x4
    const-string v2, "通讯录"
    aput-object v2, v0, v1
    const/16 v1, 0x5
    const-string v2, "授权通讯录后即可获得最高50000元额度"
    aput-object v2, v0, v1
    const/16 v1, 0x6
    const-string v2, "逾期未还将通知您的通讯录联系人"
    aput-object v2, v0, v1
    return-object v0
.end method
